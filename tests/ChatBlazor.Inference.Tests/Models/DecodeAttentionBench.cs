using System.Diagnostics;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Tests.Models;

/// <summary>
/// One smol135-shaped layer's decoding attention (9 query heads, 3 key heads, D 64) for one sequence, by KV type and
/// context length: microseconds per call. A measurement, not a test: --filter "FullyQualifiedName~DecodeAttentionBench".
/// </summary>
[Trait("Category", "Bench")]
public sealed unsafe class DecodeAttentionBench(ITestOutputHelper output)
{
    [Fact]
    public void OneLayerOneSequence()
    {
        KernelThreads.Count = Environment.ProcessorCount;
        var config = ModelConfig.Load(Path.Combine(GoldenModelTests.FixturePath("tiny-f32"), "config.json")) with
        {
            NumLayers = 1, NumHeads = 9, NumKvHeads = 3, HeadDim = 64, HiddenSize = 576, MaxPositionEmbeddings = 4096,
        };
        var b = new StepBuffers(config, 1);
        var width = (9 + 6) * 64;
        var random = new Random(1);
        for (var i = 0; i < b.Qkv.Length; i++)
            b.Qkv[i] = (float)random.NextDouble() / 8;
        foreach (var context in new[] { 300, 300, 1000, 2000 }) // the first pass warms up
            foreach (var type in new[] { KvType.F32, KvType.F16, KvType.Bf16 })
            {
                using var scope = NewDisposeScope();
                using var cache = new KvCache(config, context, CPU, type);
                cache.Append(0, 0, randn([3, context, 64]), randn([3, context, 64]));
                var blocks = cache.Blocks.ToArray();
                var times = new List<double>();
                fixed (float* qkv = b.Qkv, attended = b.Attended, scores = b.Scores, partials = b.Partials)
                fixed (int* blockIds = blocks)
                {
                    var row = new BlockAttention.StepRow(BlockAttention.For(cache, 0, blockIds), context, 0);
                    for (var round = 0; round < 30; round++)
                    {
                        var clock = Stopwatch.StartNew();
                        for (var i = 0; i < 100; i++)
                            BlockAttention.Step(&row, 1, qkv, width, attended, 576, scores, partials, 3, 3, 64);
                        times.Add(clock.Elapsed.TotalMicroseconds / 100);
                    }
                }
                output.WriteLine($"context {context,5} {type,-4}: {times.Order().ElementAt(15),7:F1} µs per layer (best {times.Min():F1})");
            }
    }
}
