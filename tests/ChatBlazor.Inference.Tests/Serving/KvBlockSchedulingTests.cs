using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Inference.Tests.Generation;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The scheduler's KV memory as blocks: prefixes shared by reference, evicted under pressure, nothing leaked.</summary>
public class KvBlockSchedulingTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    private static readonly SamplingParams Greedy = SamplingParams.Greedy with { IgnoreEos = true };

    private readonly LoadedModel _model = tiny.Model.Named($"tiny-{Guid.NewGuid():N}");

    private static async Task<int[]> TokensAsync(IAsyncEnumerable<GenerationChunk> stream)
    {
        var tokens = new List<int>();
        await foreach (var chunk in stream)
            tokens.AddRange(chunk.TokenIds);
        return [.. tokens];
    }

    private CompletionRequest Request(int[] prompt, int maxTokens) => new(_model.Name, Greedy with { MaxTokens = maxTokens }, PromptTokens: prompt);

    [Theory]
    [InlineData(KvType.F32)]
    [InlineData(KvType.F16)]
    public async Task RequestsSharingAPrefixShareItsBlocksEvictThemUnderPressureAndLeaveOnlyTheLastPrefixBehind(KvType type)
    {
        var config = _model.Model.Config;
        var blockBytes = KvBlockPool.BytesPerBlock(config, type);
        const int blocks = 24;
        var options = new EngineOptions { KvCacheBytes = blocks * blockBytes, CacheGrowthTokens = 16, KvType = type };
        using var sharing = new InferenceEngine([_model], options);
        using var recomputing = new InferenceEngine([_model.Named($"{_model.Name}-alone")], options with { PrefixCaching = false });
        async Task<int[]> AloneAsync(int[] prompt, int maxTokens) =>
            await TokensAsync(recomputing.GenerateAsync(Request(prompt, maxTokens) with { Model = $"{_model.Name}-alone" }));

        int[] system = [.. Enumerable.Range(0, 44).Select(i => 32 + i * 7 % 90)];
        var firstReply = await TokensAsync(sharing.GenerateAsync(Request(system, 4)));
        Assert.Equal(await AloneAsync(system, 4), firstReply);

        // Three requests go on from the first turn's 47 computed positions at once and share their blocks (2 full, 1
        // partial that each copies on its first write). They part right after those 47, so a request admitted after
        // another has finished cannot match more of that one's prefix: the hits are 3 × 47 whatever the timing.
        using var recorder = new MeterRecorder(EngineMetrics.Meter);
        int[][] turns = [.. Enumerable.Range(0, 3).Select(i => (int[])[.. system, .. firstReply[..3], 100 + i, 101 + i])];
        var replies = await Task.WhenAll(turns.Select(t => TokensAsync(sharing.GenerateAsync(Request(t, 8)))));
        Assert.Equal(3 * 47, recorder.Sum("chatblazor_prefix_cache_hits", _model.Name));
        for (var i = 0; i < turns.Length; i++)
            Assert.Equal(await AloneAsync(turns[i], 8), replies[i]);

        // A request that needs nearly the whole pool evicts every cached prefix and still completes.
        int[] big = [.. Enumerable.Range(0, 16 * (blocks - 2)).Select(i => 40 + i * 11 % 80)];
        var bigReply = await TokensAsync(sharing.GenerateAsync(Request(big, 10)));
        Assert.Equal(await AloneAsync(big, 10), bigReply);

        // Only the big request's own prefix is left: its computed positions (all but the last token), in whole blocks.
        var computed = big.Length + bigReply.Length - 1;
        Assert.Equal((computed + 15) / 16 * blockBytes, sharing.KvCacheBytesInUse(_model.Name));
        Assert.Equal(0, recomputing.KvCacheBytesInUse($"{_model.Name}-alone"));
    }
}
