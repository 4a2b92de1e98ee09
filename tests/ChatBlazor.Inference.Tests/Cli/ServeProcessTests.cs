using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Inference.Tests.Generation;
using ChatBlazor.Inference.Tests.Serving;

namespace ChatBlazor.Inference.Tests.Cli;

/// <summary><c>serve</c> as an operator runs it, a process of its own, with its key file and its ops address.</summary>
public sealed partial class ServeProcessTests(TinyModel tiny) : IClassFixture<TinyModel>, IDisposable
{
    // Guards against a hang; no assertion depends on how long anything takes.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private const string Key = "process-key-0123456789abcdef";
    private readonly string _keyFile = Path.GetTempFileName();

    [GeneratedRegex(@"Now listening on: (\S+)")]
    private static partial Regex Listening();

    /// <summary>A running <c>serve</c>, its output lines, and the addresses it reported (main ones first).</summary>
    private sealed class Serve : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly int _addresses;

        public ConcurrentQueue<string> Lines { get; } = new();
        public List<Uri> Addresses { get; } = [];

        public Serve(int addresses, params string[] args)
        {
            _addresses = addresses;
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ChatBlazor.Inference.dll"), "serve", .. args])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment.Remove(HostAccess.ApiKeyVariable);
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => Read(e.Data);
            _process.ErrorDataReceived += (_, e) => Read(e.Data);
            _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException($"serve exited: {string.Join('\n', Lines)}"));
            _process.EnableRaisingEvents = true;
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        private void Read(string? line)
        {
            if (line is null)
                return;
            Lines.Enqueue(line);
            if (Listening().Match(line) is { Success: true } match)
                lock (Addresses)
                {
                    Addresses.Add(new Uri(match.Groups[1].Value));
                    if (Addresses.Count == _addresses)
                        _listening.TrySetResult();
                }
        }

        public Task ListeningAsync() => _listening.Task.WaitAsync(HangGuard);

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    public void Dispose() => File.Delete(_keyFile);

    [Fact]
    public async Task WithAKeyFileAndAnOpsAddressTheHostWantsTheKeyAndTheOpsAddressServesOnlyProbes()
    {
        await File.WriteAllTextAsync(_keyFile, Key + "\n");
        await using var serve = new Serve(2, "--model", $"tiny={tiny.Directory}", "--urls", "http://127.0.0.1:0", "--ops-urls", "http://127.0.0.1:0", "--api-key-file", _keyFile);
        await serve.ListeningAsync();
        using var main = new HttpClient { BaseAddress = serve.Addresses[0] };
        using var ops = new HttpClient { BaseAddress = serve.Addresses[1] };
        const string body = """{"model":"tiny","prompt":"Hello","max_tokens":3,"ignore_eos":true}""";
        HttpRequestMessage Completion(string? key) => new(HttpMethod.Post, "v1/completions")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            Headers = { Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key) },
        };

        using var refused = await main.SendAsync(Completion(null));
        using var answered = await main.SendAsync(Completion(Key));
        using var health = await ops.GetAsync("health");
        using var metrics = await ops.GetAsync("metrics");
        using var opsModels = await ops.GetAsync("v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(3, (await TestHost.JsonAsync(answered)).GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, opsModels.StatusCode);
        Assert.DoesNotContain(serve.Lines, l => l.Contains("No API key", StringComparison.Ordinal));
        Assert.DoesNotContain(serve.Lines, l => l.Contains(Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAKeyTheHostWarnsThatAnyoneMayUseIt()
    {
        await using var serve = new Serve(1, "--model", $"tiny={tiny.Directory}", "--urls", "http://127.0.0.1:0");
        await serve.ListeningAsync();

        Assert.Contains(serve.Lines, l => l.Contains("warn", StringComparison.Ordinal) && l.Contains("No API key", StringComparison.Ordinal));
    }
}
