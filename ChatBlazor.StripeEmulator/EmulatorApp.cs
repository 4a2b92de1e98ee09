using ChatBlazor.StripeEmulator.Api;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Pages;
using ChatBlazor.StripeEmulator.Protocol;
using ChatBlazor.StripeEmulator.Webhooks;

namespace ChatBlazor.StripeEmulator;

public static class EmulatorApp
{
    /// <summary>Where the emulator listens when no --urls / ASPNETCORE_URLS is given: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:12111";

    /// <summary>The whole emulator; tests build it with <c>--urls=http://127.0.0.1:0</c> and their own settings.</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.AddStripeEmulator();
        var app = builder.Build();
        app.MapStripeEmulator();
        // Before anything listens, so the first request already finds the catalog. Read from configuration, not the
        // options, whose other checks belong to StartAsync.
        if (app.Configuration[$"{EmulatorOptions.Section}:{nameof(EmulatorOptions.CatalogFile)}"] is { Length: > 0 } catalog)
            CatalogFile.Seed(app.Services.GetRequiredService<EmulatorStore>(), catalog);
        return app;
    }

    public static void AddStripeEmulator(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<EmulatorOptions>()
            .BindConfiguration(EmulatorOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient(nameof(WebhookDispatcher), client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<WebhookDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        builder.Services.AddSingleton<EmulatorStore>();
        builder.Services.AddSingleton<IdempotencyCache>();
    }

    public static void MapStripeEmulator(this WebApplication app)
    {
        app.UseMiddleware<StripeProtocolMiddleware>();
        var v1 = app.MapGroup("/v1");
        v1.MapCatalog();
        v1.MapCheckout();
        v1.MapBilling();
        app.MapGroup("/v2").MapMeterEventsV2();
        // Anything else under the API answers like Stripe does for an unknown URL (the catch-all loses to every real route).
        app.Map("/v1/{**rest}", UnknownUrl);
        app.Map("/v2/{**rest}", UnknownUrl);
        app.MapCheckoutPages();
        app.MapPortalPages();
        app.MapInvoicePages();
        app.MapControl();
        app.MapGet("/", () => Results.Text("ChatBlazor's Stripe emulator: see ChatBlazor.StripeEmulator/README.md.\n"));
    }

    private static IResult UnknownUrl(HttpContext http) =>
        throw new StripeApiException(404, "invalid_request_error", null,
            $"Unrecognized request URL ({http.Request.Method}: {http.Request.Path}). The emulator covers only the part of Stripe's API that ChatBlazor uses.");
}
