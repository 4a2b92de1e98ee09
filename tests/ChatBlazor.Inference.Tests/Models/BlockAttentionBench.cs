using System.Diagnostics;
using ChatBlazor.Inference.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Tests.Models;

/// <summary>
/// Prefill attention of one smol135-shaped layer (9 query heads, 3 key heads, D 64): our blocked attention over the
/// cache's blocks against LibTorch's SDPA over a gathered contiguous copy (the previous path), alternated in the same
/// process. Speed lives here, not in the tests: run with --filter "FullyQualifiedName~BlockAttentionBench".
/// </summary>
[Trait("Category", "Bench")]
public sealed class BlockAttentionBench(ITestOutputHelper output)
{
    [Fact]
    public void PrefillAttentionBlockedAgainstSdpa()
    {
        var config = ModelConfig.Load(Path.Combine(GoldenModelTests.FixturePath("tiny-f32"), "config.json")) with
        {
            NumLayers = 1, NumHeads = 9, NumKvHeads = 3, HeadDim = 64, HiddenSize = 576, MaxPositionEmbeddings = 8192,
        };
        foreach (var t in new[] { 256, 256, 1024, 4096 }) // the first pass warms up: JIT, LibTorch buffers
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var q = randn([9, t, 64]) / 8;
            var k = randn([3, t, 64]);
            var v = randn([3, t, 64]);
            var caches = new[] { KvType.F32, KvType.F16, KvType.Bf16 }.Select(type => new KvCache(config, t, CPU, type)).ToArray();
            foreach (var cache in caches)
                cache.Append(0, 0, k, v);
            var times = new Dictionary<string, List<double>>();
            void Time(string name, Action run)
            {
                var clock = Stopwatch.StartNew();
                run();
                (times.TryGetValue(name, out var list) ? list : times[name] = []).Add(clock.Elapsed.TotalMilliseconds);
            }
            for (var round = 0; round < 6; round++)
            {
                Time("sdpa (gather + repeat + causal)", () =>
                {
                    using var inner = NewDisposeScope();
                    var (keys, values) = caches[0].Gather(0, t);
                    nn.functional.scaled_dot_product_attention(q * 8, keys.repeat_interleave(3, 0), values.repeat_interleave(3, 0), is_casual: true).transpose(0, 1).reshape(t, 576).sum().item<float>();
                });
                foreach (var cache in caches)
                    Time($"blocked {cache.Pool.Type}", () => { using var inner = NewDisposeScope(); BlockAttention.Prefill(q, cache, 0, 0); });
            }
            foreach (var (name, list) in times)
                output.WriteLine($"T={t} {name}: median of the last 5 {list.Skip(1).Order().ElementAt(2):F1} ms");
            foreach (var cache in caches)
                cache.Dispose();
        }
    }

    /// <summary>
    /// Decoding steps of a random smol135-shaped model at contexts of 300 and 2,000 positions with each KV type,
    /// alternated in one process (the cache holds zeros: the attention's cost does not depend on the values).
    /// </summary>
    [Fact]
    public async Task DecodeStepsByKvTypeAndContext()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"chatblazor-smol135-{Guid.NewGuid():N}");
        Assert.Equal(0, await Inference.Cli.Program.Main(["init-random", "--preset", "smol135", "--out", dir]));
        try
        {
            var llama = LlamaModel.Load(dir);
            var config = llama.Config;
            var logits = new float[config.VocabSize];
            var times = new Dictionary<string, List<double>>();
            foreach (var context in new[] { 300, 2000 })
            {
                var caches = new[] { KvType.F32, KvType.F16, KvType.Bf16 }.Select(type => new KvCache(config, context + 1, CPU, type)).ToArray();
                using (var scope = NewDisposeScope())
                using (var _ = inference_mode())
                {
                    var zero = zeros([config.NumKvHeads, context, config.HeadDim]);
                    foreach (var cache in caches)
                        for (var layer = 0; layer < config.NumLayers; layer++)
                            cache.Append(layer, 0, zero, zero);
                }
                for (var round = 0; round < 6; round++)
                    foreach (var cache in caches)
                    {
                        var clock = Stopwatch.StartNew();
                        for (var i = 0; i < 8; i++)
                            llama.Step(7, context, cache, logits);
                        var name = $"context {context} {cache.Pool.Type}";
                        (times.TryGetValue(name, out var list) ? list : times[name] = []).Add(clock.Elapsed.TotalMilliseconds / 8);
                    }
                foreach (var cache in caches)
                    cache.Dispose();
            }
            foreach (var (name, list) in times)
                output.WriteLine($"{name}: {1000 / list.Skip(1).Order().ElementAt(2):F1} tokens/s (median step of the last 5 rounds)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
