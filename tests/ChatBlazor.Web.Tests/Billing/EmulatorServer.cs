extern alias emulator;

using System.Net;
using System.Net.Sockets;
using emulator::ChatBlazor.StripeEmulator;
using Microsoft.AspNetCore.Builder;
using Stripe;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// The real Stripe emulator on a loopback port (as in tests/ChatBlazor.StripeEmulator.Tests), without a webhook
/// endpoint: what the billing jobs learn, they learn by calling it. One per test, so state never leaks between tests.
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    public const string SecretKey = "sk_test_web_billing_jobs";

    private readonly WebApplication _app;

    private EmulatorServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
        Client = ClientFor(url);
    }

    public string Url { get; }
    public StripeClient Client { get; }

    public static async Task<EmulatorServer> StartAsync()
    {
        // The content root is this test's output folder, which holds the web app's appsettings.json; the emulator's
        // own settings (Emulator:*) are not in it, and --urls wins over anything there.
        var app = EmulatorApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", $"--Emulator:SecretKey={SecretKey}"]);
        await app.StartAsync();
        return new EmulatorServer(app, app.Urls.Single());
    }

    /// <summary>A client of a loopback address where nothing listens: Stripe (or the emulator) is down.</summary>
    public static StripeClient Unreachable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return ClientFor($"http://127.0.0.1:{port}");
    }

    private static StripeClient ClientFor(string url) => new(new StripeClientOptions
    {
        ApiKey = SecretKey,
        ApiBase = url,
        MeterEventsBase = url,
        // No retries: each call shows what the emulator answered the first time.
        HttpClient = new SystemNetHttpClient(new HttpClient(), 0),
    });

    /// <summary>For the pay page: redirects are looked at, not followed.</summary>
    public HttpClient Http() => new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(Url) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
