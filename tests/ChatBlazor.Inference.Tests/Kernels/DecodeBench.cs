using System.Diagnostics;
using System.Numerics.Tensors;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using TorchSharp;
using Xunit.Abstractions;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>
/// Where a decoding step of the smol135 shape spends its time: the machine's plain read of as many bytes as the
/// weights, the step's weight products alone (whole and by shape), the whole step for one sequence, and a step of 16.
/// A measurement, not a test: run with <c>--filter "FullyQualifiedName~DecodeBench"</c>.
/// </summary>
[Trait("Category", "Bench")]
public sealed unsafe class DecodeBench(ITestOutputHelper output)
{
    private const int Rounds = 40;

    /// <summary>Bytes per weight as the kernels read them: 8-bit blocks carry a 4-byte scale per 32 values.</summary>
    private static double BytesPerWeight(WeightType type) => type switch { WeightType.F32 => 4.0, WeightType.Bf16 => 2.0, _ => 36.0 / 32 };

    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.Bf16)]
    [InlineData(WeightType.Q8)]
    public void SmolStep(WeightType type) => WithSmolModel(type, model =>
    {
        var c = model.Config;
        using var scope = torch.NewDisposeScope();
        (int Rows, int Cols)[] shapes = [((c.NumHeads + 2 * c.NumKvHeads) * c.HeadDim, c.HiddenSize), (c.HiddenSize, c.NumHeads * c.HeadDim), (2 * c.IntermediateSize, c.HiddenSize), (c.HiddenSize, c.IntermediateSize)];
        var layers = Enumerable.Range(0, c.NumLayers).Select(_ => shapes.Select(s => new Linear(torch.randn(s.Rows, s.Cols), null, torch.CPU, type)).ToArray()).ToArray();
        var lmHead = new Linear(torch.randn(c.VocabSize, c.HiddenSize), null, torch.CPU, type);
        var x = new float[c.IntermediateSize];
        var y = new float[c.VocabSize];
        var bytes = (layers.Sum(l => l.Sum(p => (long)p.OutFeatures * p.InFeatures)) + (long)c.VocabSize * c.HiddenSize) * BytesPerWeight(type);

        // The plain read: as many bytes, summed by all kernel threads.
        var plain = new float[(long)bytes / sizeof(float)];
        plain.AsSpan().Fill(1);

        using var cache = new KvCache(c, 512, model.Device, KvType.F16);
        var prompt = Enumerable.Range(0, 256).Select(i => i * 7919 % c.VocabSize).ToArray();
        model.Forward(prompt, 0, cache).Dispose();
        var logits = new float[c.VocabSize];

        // Warm-up rounds first: the step's code is compiled in tiers, and the first type measured would pay for it.
        var (read, products, steps) = (new List<double>(), new List<double>(), new List<double>());
        fixed (float* xp = x, yp = y, pp = plain)
            for (var round = -15; round < Rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                var state = new ReadState(pp, plain.LongLength);
                KernelThreads.For(64, &ReadChunk, &state);
                var t0 = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                foreach (var layer in layers)
                    foreach (var p in layer)
                        p.Step(xp, yp);
                lmHead.Step(xp, yp);
                var t1 = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                model.Step(1, 256 + round + 15, cache, logits);
                var t2 = clock.Elapsed.TotalMilliseconds;
                if (round >= 0)
                {
                    read.Add(t0);
                    products.Add(t1);
                    steps.Add(t2);
                }
            }
        var gb = bytes / 1e9;
        output.WriteLine($"{type} {MatVec.Path}/{Q8MatVec.Path}, {gb * 1e3:F0} MB of weights; median (best) of {Rounds}");
        output.WriteLine($"  plain read     {Median(read),6:F2} ms ({read.Min():F2})  {gb / Median(read) * 1e3:F1} GB/s");
        output.WriteLine($"  products only  {Median(products),6:F2} ms ({products.Min():F2})  {gb / Median(products) * 1e3:F1} GB/s");
        output.WriteLine($"  whole step     {Median(steps),6:F2} ms ({steps.Min():F2})  {1e3 / Median(steps):F1} tok/s");
    });

    /// <summary>A decoding step of 16 sequences at ~100–140 positions, as the serving benchmark's 16 concurrent requests run.</summary>
    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.Q8)]
    public void SmolStepOf16(WeightType type) => WithSmolModel(type, model =>
    {
        var c = model.Config;
        var caches = Enumerable.Range(0, 16).Select(_ => new KvCache(c, 256, model.Device, KvType.F16)).ToArray();
        var prompt = Enumerable.Range(0, 96).Select(i => i * 7919 % c.VocabSize).ToArray();
        foreach (var cache in caches)
            model.Forward(prompt, 0, cache).Dispose();
        var logits = new float[16 * c.VocabSize];
        var tokens = Enumerable.Repeat(1, 16).ToArray();
        var times = new List<double>();
        for (var round = -10; round < Rounds; round++)
        {
            var positions = Enumerable.Repeat(96 + round + 10, 16).ToArray();
            var clock = Stopwatch.StartNew();
            model.Step(tokens, positions, caches, logits);
            if (round >= 0)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"{type} {MatVec.Path}/{Q8MatVec.Path}: 16 sequences, step {Median(times):F2} ms (best {times.Min():F2}), {16 * 1e3 / Median(times):F0} tok/s");
        foreach (var cache in caches)
            cache.Dispose();
    });

    /// <summary>Each projection's share of the products, timed inside whole passes over all 30 layers (so nothing comes from cache).</summary>
    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.Bf16)]
    [InlineData(WeightType.Q8)]
    public void SmolProductsByShape(WeightType type)
    {
        KernelThreads.Count = Environment.ProcessorCount;
        using var scope = torch.NewDisposeScope();
        (string Name, int Rows, int Cols)[] shapes = [("qkv", 960, 576), ("o", 576, 576), ("gate/up", 3072, 576), ("down", 576, 1536)];
        var layers = Enumerable.Range(0, 30).Select(_ => shapes.Select(s => new Linear(torch.randn(s.Rows, s.Cols), null, torch.CPU, type)).ToArray()).ToArray();
        var lmHead = new Linear(torch.randn(49152, 576), null, torch.CPU, type);
        var x = new float[1536];
        var y = new float[49152];
        for (var i = 0; i < x.Length; i++)
            x[i] = (float)Random.Shared.NextDouble() - 0.5f;
        var ticks = new long[Rounds, shapes.Length + 1];
        fixed (float* xp = x, yp = y)
            for (var round = -3; round < Rounds; round++)
            {
                foreach (var layer in layers)
                    for (var i = 0; i < shapes.Length; i++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        layer[i].Step(xp, yp);
                        if (round >= 0)
                            ticks[round, i] += Stopwatch.GetTimestamp() - start;
                    }
                var head = Stopwatch.GetTimestamp();
                lmHead.Step(xp, yp);
                if (round >= 0)
                    ticks[round, shapes.Length] = Stopwatch.GetTimestamp() - head;
            }
        output.WriteLine($"{type} {MatVec.Path}/{Q8MatVec.Path}; median of {Rounds}");
        for (var i = 0; i <= shapes.Length; i++)
        {
            var (name, rows, cols, copies) = i < shapes.Length ? (shapes[i].Name, shapes[i].Rows, shapes[i].Cols, 30) : ("lm_head", 49152, 576, 1);
            var median = Median(Enumerable.Range(0, Rounds).Select(r => ticks[r, i] * 1e3 / Stopwatch.Frequency).ToList());
            output.WriteLine($"  {name,-8} {rows,5}x{cols,-5} x{copies,-3} {median,6:F2} ms  {rows * (double)cols * copies * BytesPerWeight(type) / median / 1e6,5:F1} GB/s");
        }
    }

    private static void WithSmolModel(WeightType type, Action<LlamaModel> run)
    {
        KernelThreads.Count = Environment.ProcessorCount;
        var directory = Directory.CreateTempSubdirectory("decode-bench-").FullName;
        try
        {
            Inference.Cli.InitRandomCommand.Run(new Inference.Cli.Args(["--preset", "smol135", "--out", directory]));
            run(LlamaModel.Load(directory, weightType: type));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Median(List<double> times) => times.Order().ElementAt(times.Count / 2);

    private readonly struct ReadState(float* data, long length)
    {
        public readonly float* Data = data;
        public readonly long Length = length;
    }

    private static volatile float _sink;

    private static void ReadChunk(void* state, int chunk)
    {
        var s = (ReadState*)state;
        var per = s->Length / 64;
        _sink = TensorPrimitives.Sum(new ReadOnlySpan<float>(s->Data + chunk * per, (int)per));
    }
}
