using System.Security.Claims;
using ChatBlazor.Core.Billing;
using Microsoft.AspNetCore.Http.HttpResults;
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
        // What the billing page calls Stripe for.
        builder.Services.AddSingleton<StripePrices>();
        builder.Services.AddSingleton<BillingSessions>();
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

    /// <summary>The webhook Stripe posts its events to, and the failed-payment banner's link, when billing is on.</summary>
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
        app.MapGet(FixPaymentPath, FixPaymentAsync).RequireAuthorization().WithName("FixPayment").WithTags("Billing");
    }

    /// <summary>Where the failed-payment banner links: the open invoice's page, else the customer portal.</summary>
    public const string FixPaymentPath = "/billing/fix";

    /// <summary>
    /// Sends the user where a failed payment is fixed: the hosted page of their open invoice (pay it there), else the
    /// customer portal (change the card; Stripe retries). A session is made on the click, not with the banner: a
    /// portal link expires, and most page loads never use it.
    /// </summary>
    private static async Task<RedirectHttpResult> FixPaymentAsync(HttpContext http, BillingOverviews overviews, BillingSessions sessions,
        ILogger<BillingSessions> log, CancellationToken ct)
    {
        var userId = http.User.FindFirstValue(ClaimTypes.NameIdentifier)!;
        if (await overviews.OpenInvoiceUrlAsync(userId, ct) is { } invoiceUrl)
            return TypedResults.Redirect(invoiceUrl);
        if (await overviews.AccountAsync(userId, ct) is not { CustomerId: var customerId })
            return TypedResults.Redirect($"{http.Request.PathBase}/billing");
        try
        {
            return TypedResults.Redirect(await sessions.PortalUrlAsync(customerId, $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/", ct));
        }
        catch (BillingUnavailableException e)
        {
            log.LogWarning("The failed-payment link could not open the portal: {Reason}", e.Message);
            return TypedResults.Redirect($"{http.Request.PathBase}/billing?portal=unavailable");
        }
    }
}
