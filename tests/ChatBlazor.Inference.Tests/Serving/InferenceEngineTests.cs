using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Inference.Tests.Generation;

namespace ChatBlazor.Inference.Tests.Serving;

public class InferenceEngineTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    private static readonly SamplingParams Greedy = SamplingParams.Greedy with { IgnoreEos = true };

    /// <summary>Distinct prompts of different lengths, made of byte tokens.</summary>
    private static int[] Prompt(int i) => Enumerable.Range(0, 5 + i * 3 % 37).Select(j => 32 + (i * 7 + j * 13) % 90).ToArray();

    // The tiny model under a name of this test's own: the engine meter is the process's, its series told apart by model.
    private readonly LoadedModel _model = tiny.Model.Named($"tiny-{Guid.NewGuid():N}");

    private InferenceEngine Engine(EngineOptions? options = null) => new([_model], options);

    private static async Task<List<GenerationChunk>> CollectAsync(IAsyncEnumerable<GenerationChunk> stream)
    {
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in stream)
            chunks.Add(chunk);
        return chunks;
    }

    private static int[] Tokens(IEnumerable<GenerationChunk> chunks) => chunks.SelectMany(c => c.TokenIds).ToArray();

    private async Task<int[]> AloneAsync(int[] prompt, SamplingParams sampling) =>
        Tokens(await CollectAsync(tiny.Model.Generator.GenerateAsync(prompt, sampling)));

    private CompletionRequest Request(int[] prompt, SamplingParams sampling) => new(_model.Name, sampling, PromptTokens: prompt);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(16)]
    public async Task GreedyOutputsWithBatchingEqualEachRequestRunAlone(int concurrent)
    {
        var sampling = Greedy with { MaxTokens = 24 };
        using var engine = Engine();

        var batched = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(i => CollectAsync(engine.GenerateAsync(Request(Prompt(i), sampling)))));

        for (var i = 0; i < concurrent; i++)
        {
            Assert.Equal(await AloneAsync(Prompt(i), sampling), Tokens(batched[i]));
            Assert.Equal(new GenerationUsage(Prompt(i).Length, 24), batched[i][^1].Usage);
            Assert.Equal(FinishReason.Length, batched[i][^1].FinishReason);
        }
    }

    [Fact]
    public async Task CancellingFreesTheKvMemoryAtOnce()
    {
        using var engine = Engine(new EngineOptions { PrefixCaching = false });
        using var cancel = new CancellationTokenSource();
        // All four requests go in from this thread at once, as long as the context allows, each read up to its first
        // chunk: started with Task.Run under a busy test run, the last could start after the first had finished.
        var streams = Enumerable.Range(0, 4)
            .Select(i => engine.GenerateAsync(Request(Prompt(i), Greedy with { MaxTokens = 2000 }), cancel.Token).GetAsyncEnumerator())
            .ToArray();
        var firsts = streams.Select(stream => stream.MoveNextAsync().AsTask()).ToArray();
        Assert.All(await Task.WhenAll(firsts), Assert.True);
        Assert.True(engine.KvCacheBytesInUse(_model.Name) > 0);

        cancel.Cancel();
        var results = await Task.WhenAll(streams.Select(async stream =>
        {
            var chunks = new List<GenerationChunk> { stream.Current };
            while (await stream.MoveNextAsync())
                chunks.Add(stream.Current);
            await stream.DisposeAsync();
            return chunks;
        }));

        Assert.All(results, chunks => Assert.Equal(FinishReason.Cancelled, chunks[^1].FinishReason));
        Assert.Equal(0, engine.KvCacheBytesInUse(_model.Name));
    }

    [Fact]
    public async Task UnderATinyKvPoolSequencesArePreemptedAndStillCompleteCorrectly()
    {
        var sampling = Greedy with { MaxTokens = 64 };
        var config = tiny.Model.Model.Config;
        // Room for about one and a half full sequences, growing eight positions at a time.
        var pool = Inference.Models.KvCache.BytesFor(config, 160, Inference.Models.KvType.Bf16);
        using var engine = Engine(new EngineOptions { KvCacheBytes = pool, CacheGrowthTokens = 8, PrefixCaching = false, KvType = Inference.Models.KvType.Bf16 });
        using var recorder = new MeterRecorder(EngineMetrics.Meter);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => CollectAsync(engine.GenerateAsync(Request(Prompt(i), sampling)))));

        for (var i = 0; i < 4; i++)
            Assert.Equal(await AloneAsync(Prompt(i), sampling), Tokens(results[i]));
        Assert.InRange(recorder.Sum("chatblazor_num_preemptions", _model.Name), 1, long.MaxValue);
        Assert.Equal(0, engine.KvCacheBytesInUse(_model.Name));
    }

    [Fact]
    public async Task AFullQueueRefusesNewRequestsAtOnceAsOverloaded()
    {
        using var engine = Engine(new EngineOptions { MaxRunningSequences = 1, MaxQueuedRequests = 2 });
        using var cancel = new CancellationTokenSource();

        // Submitted back to back, far faster than one long request can finish: two wait (plus one running, if the
        // scheduler admitted the first in between), the rest are refused.
        var streams = Enumerable.Range(0, 10).Select(i => engine.GenerateAsync(Request(Prompt(i), Greedy with { MaxTokens = 2000 }), cancel.Token).GetAsyncEnumerator()).ToArray();
        var firsts = streams.Select(s => s.MoveNextAsync().AsTask()).ToArray();
        var outcomes = await Task.WhenAll(firsts.Select(async t => { try { await t; return null; } catch (EngineOverloadedException e) { return e; } }));

        Assert.InRange(outcomes.Count(e => e is not null), 7, 8);
        Assert.All(outcomes.OfType<EngineOverloadedException>(), e => Assert.Contains("overloaded", e.Message));
        cancel.Cancel();
        foreach (var (stream, outcome) in streams.Zip(outcomes))
            if (outcome is null)
                while (await stream.MoveNextAsync()) { }
    }

    [Fact]
    public async Task AHundredConcurrentShortRequestsAllFinish()
    {
        using var engine = Engine(new EngineOptions { MaxQueuedRequests = 100 });

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => CollectAsync(engine.GenerateAsync(Request(Prompt(i), Greedy with { MaxTokens = 6 })))))
            .WaitAsync(TimeSpan.FromMinutes(5));

        Assert.All(results, chunks => Assert.Equal(6, chunks[^1].Usage!.CompletionTokens));
    }

    [Fact]
    public async Task ASecondTurnReusingTheFirstTurnsCacheGivesTheSameLogitsAsRecomputing()
    {
        var sampling = Greedy with { MaxTokens = 20, TopLogprobs = 1 };
        using var reusing = Engine();
        using var recomputing = Engine(new EngineOptions { PrefixCaching = false });
        using var recorder = new MeterRecorder(EngineMetrics.Meter);
        var first = Prompt(5);
        var firstTurn = Tokens(await CollectAsync(reusing.GenerateAsync(Request(first, sampling))));
        int[] second = [.. first, .. firstTurn, 40, 41, 42, 43, 44];

        var withReuse = await CollectAsync(reusing.GenerateAsync(Request(second, sampling)));
        // Read before the other engine (same model name) adds its own.
        var (computed, hits, queried) = (recorder.Sum("chatblazor_prompt_tokens", _model.Name), recorder.Sum("chatblazor_prefix_cache_hits", _model.Name),
            recorder.Sum("chatblazor_prefix_cache_queries", _model.Name));
        var without = await CollectAsync(recomputing.GenerateAsync(Request(second, sampling)));

        Assert.Equal(Tokens(without), Tokens(withReuse));
        var logprobs = withReuse.SelectMany(c => c.Logprobs!).Zip(without.SelectMany(c => c.Logprobs!));
        Assert.All(logprobs, pair => Assert.Equal(pair.Second.Logprob, pair.First.Logprob, 4));
        // The reused positions are not processed again: all of the first turn but its last token, which was
        // sampled but never fed back.
        var reused = first.Length + firstTurn.Length - 1;
        Assert.Equal((first.Length + second.Length - reused, reused, first.Length + second.Length), (computed, hits, queried));
    }

    [Fact]
    public async Task AnUnknownModelAndAnOversizedPromptAreRefusedBeforeQueueing()
    {
        using var engine = Engine();

        await Assert.ThrowsAsync<ModelNotFoundException>(() => CollectAsync(engine.GenerateAsync(new CompletionRequest("nope", Greedy, PromptTokens: [1]))));
        var tooLong = Enumerable.Repeat(65, tiny.Model.Model.Config.MaxPositionEmbeddings).ToArray();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => CollectAsync(engine.GenerateAsync(Request(tooLong, Greedy))));
        Assert.Contains("context window", error.Message);
    }
}
