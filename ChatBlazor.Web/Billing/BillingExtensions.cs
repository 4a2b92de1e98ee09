using ChatBlazor.Core.Billing;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Billing;

public static class BillingExtensions
{
    /// <summary>Stripe's settings (checked at start) and applying its events; the plans come from AddLimits.</summary>
    public static void AddBilling(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StripeOptions>().BindConfiguration(StripeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StripeOptions>, StripeOptionsValidation>();
        builder.Services.AddSingleton(services => new BillingPolicy(services.GetRequiredService<IOptions<StripeOptions>>().Value.PaymentGracePeriod));
        builder.Services.AddBillingDomain();
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
