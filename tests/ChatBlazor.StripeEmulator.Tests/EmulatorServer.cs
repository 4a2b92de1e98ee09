using ChatBlazor.StripeEmulator;
using Stripe;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>
/// A real emulator on a loopback port, as the app will reach it, and a Stripe.net client pointed at it through
/// ApiBase and MeterEventsBase. One per test: state never leaks between tests.
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    public const string SecretKey = "sk_test_emulator_tests";

    private readonly WebApplication _app;

    private EmulatorServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
        Client = ClientWithKey(SecretKey);
    }

    public string Url { get; }
    public StripeClient Client { get; }

    public static async Task<EmulatorServer> StartAsync(WebhookReceiver? receiver = null, double retrySeconds = 0.05, string? catalogFile = null)
    {
        List<string> args =
        [
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            $"--Emulator:SecretKey={SecretKey}",
            $"--Emulator:WebhookRetrySeconds={retrySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        ];
        if (catalogFile is not null)
            args.Add($"--Emulator:CatalogFile={catalogFile}");
        if (receiver is not null)
            args.AddRange([$"--Emulator:WebhookUrl={receiver.Url}", $"--Emulator:WebhookSecret={receiver.Secret}"]);
        var app = EmulatorApp.Build(args.ToArray());
        await app.StartAsync();
        return new EmulatorServer(app, app.Urls.Single());
    }

    public StripeClient ClientWithKey(string key) => new(new StripeClientOptions
    {
        ApiKey = key,
        ApiBase = Url,
        MeterEventsBase = Url,
        // No retries: a retry would hide what the emulator answered the first time.
        HttpClient = new SystemNetHttpClient(new HttpClient(), 0),
    });

    /// <summary>For the pages and /_emulator: redirects are looked at, not followed.</summary>
    public HttpClient Http() => new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(Url) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
