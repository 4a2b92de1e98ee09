using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The live figures of the web console: the rolling window, and a host's <c>GET /status</c> read by <see cref="RemoteEngine"/>.</summary>
public class EngineStatusTests
{
    [Fact]
    public void TheWindowCountsOnlyBusySecondsAndForgetsWhatIsOlderThanItsSpan()
    {
        long now = 1_000;
        var window = new RecentWindow(() => now);
        Assert.Equal((null, null), window.Read());

        window.AddTokens(30);
        window.AddFirstToken(TimeSpan.FromMilliseconds(100));
        now += 10; // ten idle seconds do not make the model look slower
        window.AddTokens(10);
        window.AddFirstToken(TimeSpan.FromMilliseconds(300));
        Assert.Equal((20.0, 200.0), window.Read());

        now += (long)RecentWindow.Span.TotalSeconds - 5; // the first second is now out of the window
        Assert.Equal((10.0, 300.0), window.Read());
        now += 10;
        Assert.Equal((null, null), window.Read());
    }

    [Fact]
    public async Task TheHostReportsEachModelsFiguresAndTheRemoteEngineReadsThem()
    {
        var metrics = new EngineMetrics();
        metrics.For("scripted").SetLoad(running: 3, waiting: 2, kvCacheUsage: 0.25);
        metrics.For("scripted").AddGenerationTokens(5);
        metrics.For("scripted").ObserveTimeToFirstToken(TimeSpan.FromMilliseconds(40));
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), metrics);

        var report = await new RemoteEngine(host.Client, []).StatusAsync();

        var status = Assert.Single(report.Models);
        Assert.Equal(("scripted", 3, 2, 0.25, 40.0), (status.Model, status.Running, status.Waiting, status.KvCacheUsage, status.TimeToFirstTokenMs));
        Assert.True(status.TokensPerSecond >= 5 / 2.0, $"{status.TokensPerSecond}"); // 5 tokens in one busy second, or two if a second ticked over
    }
}

/// <summary>Models joining and leaving a running engine (the console's load and unload).</summary>
public class EngineLoadingTests(ChatBlazor.Inference.Tests.Generation.TinyModel tiny) : IClassFixture<ChatBlazor.Inference.Tests.Generation.TinyModel>
{
    [Fact]
    public async Task AModelLoadedAtRunTimeServesAndOnceUnloadedIsNotFound()
    {
        using var engine = new InferenceEngine([]);
        Assert.Empty(engine.Models);

        engine.Load(ChatBlazor.Inference.Generation.LoadedModel.Load(tiny.Directory, "late"));

        Assert.Equal(["late"], engine.Models.Select(m => m.Name));
        var request = new CompletionRequest("late", SamplingParams.Greedy with { MaxTokens = 3, IgnoreEos = true }, PromptTokens: [40, 41, 42]);
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in engine.GenerateAsync(request))
            chunks.Add(chunk);
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
        Assert.Equal("late", Assert.Single(engine.Status()).Model);
        Assert.Throws<InvalidOperationException>(() => engine.Load(ChatBlazor.Inference.Generation.LoadedModel.Load(tiny.Directory, "late")));

        Assert.True(engine.Unload("late"));

        Assert.Empty(engine.Models);
        Assert.Empty(engine.Status());
        await Assert.ThrowsAsync<ModelNotFoundException>(async () => { await foreach (var _ in engine.GenerateAsync(request)) { } });
        Assert.False(engine.Unload("late"));
    }
}
