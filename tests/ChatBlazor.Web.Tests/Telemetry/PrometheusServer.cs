using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ChatBlazor.Web.Tests.Telemetry;

/// <summary>
/// A real Prometheus (Debian's <c>prometheus</c> package) on a free loopback port, scraping the given targets' /metrics
/// every second, with its data under a temporary folder; killed and removed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private PrometheusServer(Process process, string folder, Uri address) => (_process, _folder, Client) = (process, folder, new HttpClient { BaseAddress = address });

    public HttpClient Client { get; }

    /// <summary>Starts Prometheus scraping <paramref name="target"/> (host:port) as job <paramref name="job"/>, and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string target, string job)
    {
        var binary = Environment.GetEnvironmentVariable("CHATBLAZOR_PROMETHEUS") ?? "/usr/bin/prometheus";
        if (!File.Exists(binary))
            throw new InvalidOperationException($"Prometheus is not installed at {binary}: apt-get install prometheus (./test.sh does).");
        var folder = Directory.CreateTempSubdirectory("chatblazor-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: {job}
                metrics_path: /metrics
                static_configs:
                  - targets: ['{target}']
            """);
        var port = FreePort();
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList =
            {
                $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", $"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Prometheus did not start.");
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new PrometheusServer(process, folder, new Uri($"http://127.0.0.1:{port}/"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                lock (log)
                    throw new InvalidOperationException($"Prometheus exited with {process.ExitCode}: {log}");
            }
            try
            {
                using var ready = await server.Client.GetAsync("-/ready");
                if (ready.StatusCode == HttpStatusCode.OK)
                    return server;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException("Prometheus was not ready within 60 s.");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The value of an instant query that returns one series (a sum, say); null when it returns none.</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        using var response = await Client.GetAsync($"api/v1/query?query={Uri.EscapeDataString(promql)}");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var data = body.RootElement.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector")
            throw new InvalidOperationException($"'{promql}' is not an instant vector query.");
        var result = data.GetProperty("result");
        return result.GetArrayLength() switch
        {
            0 => null,
            1 => double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture),
            var n => throw new InvalidOperationException($"'{promql}' returned {n} series; sum it."),
        };
    }

    /// <summary>Polls the query until its value satisfies <paramref name="until"/>, for at most <paramref name="within"/>; returns the last value.</summary>
    public async Task<double?> WaitForAsync(string promql, Func<double, bool> until, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var value = await QueryAsync(promql);
            if (value is { } v && until(v) || DateTime.UtcNow > deadline)
                return value;
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
