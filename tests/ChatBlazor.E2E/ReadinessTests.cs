using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatBlazor.Core.Identity;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>Readiness follows Redis going away and coming back, on a Redis of this class's own.</summary>
public class ReadinessTests(ReadinessTests.AppWithOwnRedis app) : IClassFixture<ReadinessTests.AppWithOwnRedis>
{
    public sealed class AppWithOwnRedis : BrowserApp
    {
        public OwnRedis Redis { get; } = new();

        public AppWithOwnRedis()
        {
            Redis.Start();
            Set("Redis:Configuration", $"127.0.0.1:{Redis.Port}");
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Redis.Stop();
        }
    }

    [Fact]
    public async Task ReadyIs503NamingRedisWhileItIsStoppedAnd200OnceItIsBack()
    {
        // The checks' details are for admins; an admin signs in while Redis is up (sign-in needs it).
        var (page, _) = await app.SignedInPageAsync(Roles.Admin);
        await page.GotoAsync("/health/live");
        await WaitForReadyAsync(page);

        app.Redis.Stop();
        var down = await page.GotoAsync("/health/ready");
        Assert.Equal(503, down!.Status);
        await Expect(page.Locator("body")).ToContainTextAsync("Redis unreachable");
        var anonymous = await app.NewPageAsync();
        var refused = await anonymous.GotoAsync("/health/ready");
        Assert.Equal((503, """{"status":"Unhealthy"}"""), (refused!.Status, await refused.TextAsync()));

        app.Redis.Start();
        await WaitForReadyAsync(page);
        var up = await page.GotoAsync("/health/ready");
        Assert.True(up!.Status == 200, await up.TextAsync());
    }

    // The Redis client reconnects in the background with a back-off: poll, as a load balancer would.
    // A synchronous request, because Playwright polls the function's plain return value.
    private const string Ready = """
        () => {
          const request = new XMLHttpRequest();
          request.open('GET', '/health/ready', false);
          request.send();
          return request.status === 200;
        }
        """;

    private static Task WaitForReadyAsync(Microsoft.Playwright.IPage page) =>
        page.WaitForFunctionAsync(Ready, null, new() { PollingInterval = 250, Timeout = 30_000 });
}

/// <summary>A redis-server child process on a free loopback port, started and stopped at will.</summary>
public sealed class OwnRedis
{
    private Process? _process;

    public int Port { get; } = FreePort();

    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server",
            ["--bind", "127.0.0.1", "--port", Port.ToString(), "--save", "", "--appendonly", "no"])
        { RedirectStandardOutput = true, UseShellExecute = false })!;
        // Started when it accepts connections; no fixed sleep.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Accepts())
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
                throw new InvalidOperationException($"redis-server did not start on port {Port}");
            Thread.Yield();
        }
    }

    public void Stop()
    {
        if (_process is null || _process.HasExited)
            return;
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
