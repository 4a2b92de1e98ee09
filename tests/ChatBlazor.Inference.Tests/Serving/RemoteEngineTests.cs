using System.Net;
using System.Net.Sockets;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The HTTP client engine against our own host (Kestrel on a free port) and against hosts that misbehave.</summary>
public class RemoteEngineTests
{
    // Guards against a hang in the code under test; no assertion depends on how long anything takes.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static CompletionRequest ChatRequest(string model = ScriptedEngine.ModelName, SamplingParams? sampling = null) =>
        new(model, sampling ?? new SamplingParams(), Messages: [new ChatMessage("user", "Hi")]);

    private static async Task<List<GenerationChunk>> CollectAsync(IInferenceEngine engine, CompletionRequest request, List<GenerationChunk>? into = null)
    {
        var chunks = into ?? [];
        await foreach (var chunk in engine.GenerateAsync(request))
            chunks.Add(chunk);
        return chunks;
    }

    [Fact]
    public async Task AChatRoundTripsTextFinishReasonAndUsage()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());
        var remote = await RemoteEngine.ConnectAsync(host.Client);

        var chunks = await CollectAsync(remote, ChatRequest()).WaitAsync(HangGuard);

        Assert.Equal([new ModelInfo("scripted", 4096)], remote.Models);
        Assert.Equal("Hello, world!", string.Concat(chunks.Select(c => c.Text)));
        Assert.All(chunks[..^1], c => Assert.Null(c.FinishReason));
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        Assert.Equal(new GenerationUsage(5, 3), chunks[^1].Usage);
    }

    [Fact]
    public async Task ACompletionSendsTokenIdsAndSamplingParamsThrough()
    {
        var engine = new ScriptedEngine { Chunks = [new("two", [2], FinishReason: FinishReason.Length, Usage: new(3, 1))] };
        await using var host = await TestHost.StartAsync(engine);
        var remote = new RemoteEngine(host.Client, engine.Models);
        var sampling = new SamplingParams
        {
            Temperature = 0, TopK = 40, MinP = 0.1, RepetitionPenalty = 1.2, Seed = 9, MaxTokens = 1, Stop = ["\n"],
            LogitBias = new Dictionary<int, double> { [5] = 2 }, IgnoreEos = true,
        };

        var chunks = await CollectAsync(remote, new CompletionRequest("scripted", sampling, PromptTokens: [1, 2, 3])).WaitAsync(HangGuard);
        var received = await engine.Received;

        Assert.Equal([1, 2, 3], received.PromptTokens);
        // The collections compare by reference in the record's equality, so they are checked on their own.
        Assert.Equal(sampling with { LogitBias = null, Stop = [] }, received.Sampling with { LogitBias = null, Stop = [] });
        Assert.Equal(2, received.Sampling.LogitBias![5]);
        Assert.Equal(["\n"], received.Sampling.Stop);
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
        Assert.Equal("two", string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public async Task HostErrorsComeBackAsTheEnginesExceptions()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());
        await using var overloadedHost = await TestHost.StartAsync(new ScriptedEngine { FailBeforeFirstChunk = new EngineOverloadedException("The queue is full.") });
        var remote = await RemoteEngine.ConnectAsync(host.Client);
        var overloaded = await RemoteEngine.ConnectAsync(overloadedHost.Client);

        var missing = await Assert.ThrowsAsync<ModelNotFoundException>(() => CollectAsync(remote, ChatRequest("gpt-9")));
        var full = await Assert.ThrowsAsync<EngineOverloadedException>(() => CollectAsync(overloaded, ChatRequest()));
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => CollectAsync(remote, ChatRequest(sampling: new SamplingParams { Temperature = 500 })));

        Assert.Equal("gpt-9", missing.Model);
        Assert.Equal("The queue is full.", full.Message);
        Assert.Equal("temperature", bad.ParamName);
    }

    [Fact]
    public async Task AHostWhoseEngineFailsMidStreamSurfacesAsUnavailableAfterTheTextSoFar()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine { FailAfterChunks = 2 });
        var remote = await RemoteEngine.ConnectAsync(host.Client);
        var received = new List<GenerationChunk>();

        var error = await Assert.ThrowsAsync<EngineUnavailableException>(() => CollectAsync(remote, ChatRequest(), received).WaitAsync(HangGuard));

        Assert.Equal("Hello, world", string.Concat(received.Select(c => c.Text)));
        Assert.Contains("mid-reply", error.Message);
    }

    [Fact]
    public async Task AConnectionCutMidStreamSurfacesAsUnavailable()
    {
        await using var server = new RawSseServer(
            ["""{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
             """{"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"""],
            cutAfterEvents: true);
        using var http = new HttpClient { BaseAddress = server.Address };
        var remote = new RemoteEngine(http, [new ModelInfo("scripted", 4096)]);
        var received = new List<GenerationChunk>();

        var error = await Assert.ThrowsAsync<EngineUnavailableException>(() => CollectAsync(remote, ChatRequest(), received).WaitAsync(HangGuard));

        Assert.Equal("Hel", Assert.Single(received).Text);
        Assert.Equal("The model server went away mid-reply.", error.Message);
    }

    [Fact]
    public async Task AStreamThatEndsCleanlyWithoutAFinishReasonSurfacesAsUnavailable()
    {
        // The host's engine was cancelled on its side (a shutdown): the host ends the stream without finish or [DONE].
        var engine = new ScriptedEngine { Chunks = [new("Hel", [1]), new("", [], FinishReason: FinishReason.Cancelled, Usage: new(5, 1))] };
        await using var host = await TestHost.StartAsync(engine);
        var remote = new RemoteEngine(host.Client, engine.Models);

        var error = await Assert.ThrowsAsync<EngineUnavailableException>(() => CollectAsync(remote, ChatRequest()).WaitAsync(HangGuard));

        Assert.Equal("The model server went away mid-reply.", error.Message);
    }

    [Fact]
    public async Task AServerThatFallsSilentIsGivenUpAfterTheReadTimeout()
    {
        await using var server = new RawSseServer(["""{"choices":[{"index":0,"text":"Hel","finish_reason":null}]}"""], cutAfterEvents: false);
        using var http = new HttpClient { BaseAddress = server.Address };
        var remote = new RemoteEngine(http, [new ModelInfo("scripted", 4096)], readTimeout: TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<EngineUnavailableException>(
            () => CollectAsync(remote, new CompletionRequest("scripted", new SamplingParams(), Prompt: "Hi")).WaitAsync(HangGuard));

        Assert.Contains("stopped responding", error.Message);
    }

    [Fact]
    public async Task AnUnreachableServerSurfacesAsUnavailable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        await Assert.ThrowsAsync<EngineUnavailableException>(() => RemoteEngine.ConnectAsync(http));
        await Assert.ThrowsAsync<EngineUnavailableException>(() => CollectAsync(new RemoteEngine(http, []), ChatRequest()).WaitAsync(HangGuard));
    }

    [Fact]
    public async Task CancellingARemoteGenerationCancelsTheHostsEngine()
    {
        var engine = new ScriptedEngine { Chunks = [new("Hello", [9707])], WaitForCancellation = true };
        await using var host = await TestHost.StartAsync(engine);
        var remote = new RemoteEngine(host.Client, engine.Models);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in remote.GenerateAsync(ChatRequest(), cancel.Token))
                cancel.Cancel(); // after the first chunk, as a Stop button does
        });
        await engine.Cancelled.WaitAsync(HangGuard);
    }
}
