using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatBlazor.Testing;

namespace ChatBlazor.E2E.Fleet;

/// <summary>
/// The web app as a process of its own (<c>dotnet ChatBlazor.Web.dll</c>, as ./run.sh serves it) on a free loopback
/// port, configured through its environment: a second instance of a fleet, which a test can kill like a crashed server.
/// </summary>
public sealed class WebProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private WebProcess(Process process, string baseUrl) => (_process, BaseUrl) = (process, baseUrl);

    public string BaseUrl { get; }

    /// <summary>The process id, for a benchmark that reads its CPU time from /proc.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Its last lines of output, for a failure message.</summary>
    public string Output => string.Join('\n', _output.TakeLast(40));

    public static async Task<WebProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var port = FreePort();
        // The same build configuration as the tests: ./test.sh builds Release.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var folder = Path.Combine(TestServices.RepositoryRoot(), "ChatBlazor.Web", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(folder, "ChatBlazor.Web.dll")])
        {
            WorkingDirectory = folder, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_CONTENTROOT"] = folder;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__UserIdKey"] = AppFactory.UserIdKey;
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var web = new WebProcess(Process.Start(start)!, $"http://127.0.0.1:{port}");
        web._process.OutputDataReceived += (_, line) => web.Keep(line.Data);
        web._process.ErrorDataReceived += (_, line) => web.Keep(line.Data);
        web._process.BeginOutputReadLine();
        web._process.BeginErrorReadLine();
        try
        {
            await web.WaitUntilReadyAsync();
        }
        catch
        {
            // A process that never became ready would outlive the test run, holding memory and its port.
            if (!web._process.HasExited)
                await web.KillAsync();
            throw;
        }
        return web;
    }

    /// <summary>Ends the process at once, as a crash or an out-of-memory kill would: no shutdown, no hand-over.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The web process exited with {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(180))
                throw new TimeoutException($"The web process was not ready after 180 s:\n{Output}");
            await Task.Delay(100); // polling a condition, not a timed assertion
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 200)
            _output.TryDequeue(out _);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }
}
