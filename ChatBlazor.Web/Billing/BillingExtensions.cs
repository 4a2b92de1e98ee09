using ChatBlazor.Core.Billing;
using Microsoft.Extensions.Options;
using Stripe;

namespace ChatBlazor.Web.Billing;

public static class BillingExtensions
{
    /// <summary>Stripe's settings (checked at start), applying its events, and the metering and invoice jobs; the plans come from AddLimits.</summary>
    public static void AddBilling(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StripeOptions>().BindConfiguration(StripeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StripeOptions>, StripeOptionsValidation>();
        builder.Services.AddSingleton(services => new BillingPolicy(services.GetRequiredService<IOptions<StripeOptions>>().Value.PaymentGracePeriod));
        builder.Services.AddBillingDomain();
        // One client for the process: it holds one HttpClient and its connections. Only resolved when billing is on.
        builder.Services.AddSingleton(services => StripeClientFor(services.GetRequiredService<IOptions<StripeOptions>>().Value));
        // The jobs that call Stripe (declared in BillingJobs only while billing is on).
        builder.Services.AddSingleton<UsageMetering>();
        builder.Services.AddSingleton<InvoiceSync>();
    }

    /// <summary>
    /// Stripe.net pointed at Stripe, or at <c>Stripe:ApiBase</c> for both the API and the meter-event stream (the
    /// emulator serves both on one address). Stripe.net retries network failures and 409/429/5xx answers itself,
    /// with the same idempotency key.
    /// </summary>
    public static StripeClient StripeClientFor(StripeOptions options)
    {
        if (!options.IsEnabled)
            throw new InvalidOperationException("Billing is off (Stripe:SecretKey is not set): nothing may call Stripe.");
        var client = new StripeClientOptions { ApiKey = options.SecretKey };
        if (!string.IsNullOrWhiteSpace(options.ApiBase))
            (client.ApiBase, client.MeterEventsBase) = (options.ApiBase.TrimEnd('/'), options.ApiBase.TrimEnd('/'));
        return new StripeClient(client);
    }

    /// <summary>The webhook Stripe posts its events to, when billing is on.</summary>
    public static void MapBilling(this WebApplication app)
    {
        if (string.IsNullOrWhiteSpace(app.Configuration[$"{StripeOptions.Section}:{nameof(StripeOptions.SecretKey)}"]))
        {
            app.Logger.LogInformation("Billing is off: Stripe:SecretKey is not set, so nothing is charged and {Path} is not served", StripeWebhook.Path);
            return;
        }
        // Stripe signs what it sends; no cookie, no antiforgery token, no user: the signature is the authentication.
        app.MapPost(StripeWebhook.Path, StripeWebhook.HandleAsync).AllowAnonymous().DisableAntiforgery()
            .WithName("StripeWebhook").WithTags("Billing");
    }
}
