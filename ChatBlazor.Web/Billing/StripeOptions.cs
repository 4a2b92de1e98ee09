using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Billing;

/// <summary>
/// <c>Stripe:*</c>. Billing is on when <see cref="SecretKey"/> is set (a real key, or the emulator's under
/// <c>./run.sh</c>); without one nothing is charged, no webhook is served, and the billing page says so.
/// </summary>
public sealed class StripeOptions
{
    public const string Section = "Stripe";

    /// <summary>The API key billing calls Stripe with (sk_… or a restricted rk_…).</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>The signing secret of the webhook endpoint (whsec_…): events whose signature it does not verify are refused.</summary>
    public string WebhookSecret { get; set; } = "";

    /// <summary>Another address for Stripe's API (the emulator's, on loopback); unset: Stripe's own.</summary>
    public string? ApiBase { get; set; }

    /// <summary>How long after a failed payment the plan stays, while Stripe retries the card, before the default plan applies.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00", ErrorMessage = "Stripe:PaymentGracePeriod must be between 0 and 90 days (e.g. 7.00:00:00).")]
    public TimeSpan PaymentGracePeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The event name of the billing meter that counts tokens beyond a plan's included amount.</summary>
    [RegularExpression("^[A-Za-z0-9_]{1,100}$", ErrorMessage = "Stripe:MeterEventName must be 1 to 100 letters, digits or underscores.")]
    public string MeterEventName { get; set; } = "chatblazor_tokens";

    public bool IsEnabled => !string.IsNullOrWhiteSpace(SecretKey);

    /// <summary>A test key, or another API address (the emulator): no real money moves, and the billing page says so.</summary>
    public bool IsTestMode => SecretKey.StartsWith("sk_test_", StringComparison.Ordinal) || SecretKey.StartsWith("rk_test_", StringComparison.Ordinal)
        || !string.IsNullOrWhiteSpace(ApiBase);
}

/// <summary>The rules between keys that attributes cannot say; each message names the key to fix.</summary>
internal sealed class StripeOptionsValidation : IValidateOptions<StripeOptions>
{
    public ValidateOptionsResult Validate(string? name, StripeOptions options)
    {
        if (!options.IsEnabled)
            return ValidateOptionsResult.Success;
        var errors = new List<string>();
        if (!options.SecretKey.StartsWith("sk_", StringComparison.Ordinal) && !options.SecretKey.StartsWith("rk_", StringComparison.Ordinal))
            errors.Add("Stripe:SecretKey must be a secret key (sk_… or rk_…); a publishable key (pk_…) cannot call the API.");
        if (string.IsNullOrWhiteSpace(options.WebhookSecret))
            errors.Add("Stripe:WebhookSecret is required when Stripe:SecretKey is set: the signing secret (whsec_…) of the endpoint /stripe/webhook.");
        if (!string.IsNullOrWhiteSpace(options.ApiBase)
            && !(Uri.TryCreate(options.ApiBase, UriKind.Absolute, out var apiBase) && apiBase.Scheme is "http" or "https"))
            errors.Add($"Stripe:ApiBase must be an absolute http(s) URL such as http://127.0.0.1:12111 (it is '{options.ApiBase}').");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
