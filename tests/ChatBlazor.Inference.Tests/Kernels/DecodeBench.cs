using System.Diagnostics;
using System.Numerics.Tensors;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using TorchSharp;
using Xunit.Abstractions;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>
/// Where a batch-1 decoding step of the smol135 shape spends its time: the machine's plain read bandwidth over
/// the same number of bytes, the step's weight products alone, and the whole step. A measurement, not a test:
/// run with <c>--filter Category=Bench</c>.
/// </summary>
[Trait("Category", "Bench")]
public sealed unsafe class DecodeBench(ITestOutputHelper output)
{
    private const int Rounds = 40;

    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.Bf16)]
    [InlineData(WeightType.Q8)]
    public void SmolStep(WeightType type)
    {
        KernelThreads.Count = Environment.ProcessorCount;
        var directory = Directory.CreateTempSubdirectory("decode-bench-").FullName;
        try
        {
            Inference.Cli.InitRandomCommand.Run(new Inference.Cli.Args(["--preset", "smol135", "--out", directory]));
            var model = LlamaModel.Load(directory, weightType: type);
            var c = model.Config;
            using var scope = torch.NewDisposeScope();
            (int Rows, int Cols)[] shapes = [((c.NumHeads + 2 * c.NumKvHeads) * c.HeadDim, c.HiddenSize), (c.HiddenSize, c.NumHeads * c.HeadDim), (2 * c.IntermediateSize, c.HiddenSize), (c.HiddenSize, c.IntermediateSize)];
            var layers = Enumerable.Range(0, c.NumLayers).Select(_ => shapes.Select(s => new Linear(torch.randn(s.Rows, s.Cols), null, torch.CPU, type)).ToArray()).ToArray();
            var lmHead = new Linear(torch.randn(c.VocabSize, c.HiddenSize), null, torch.CPU, type);
            var x = new float[c.IntermediateSize];
            var y = new float[c.VocabSize];
            var bytes = (layers.Sum(l => l.Sum(p => (long)p.OutFeatures * p.InFeatures)) + (long)c.VocabSize * c.HiddenSize) * (type switch { WeightType.F32 => 4.0, WeightType.Bf16 => 2.0, _ => 34.0 / 32 });

            // The plain read: as many bytes, summed by all kernel threads.
            var plain = new float[(long)bytes / sizeof(float)];
            plain.AsSpan().Fill(1);

            using var cache = new KvCache(c, 512, model.Device, KvType.F16);
            var prompt = Enumerable.Range(0, 256).Select(i => i * 7919 % c.VocabSize).ToArray();
            model.Forward(prompt, 0, cache).Dispose();
            var logits = new float[c.VocabSize];

            var (read, products, steps) = (new List<double>(), new List<double>(), new List<double>());
            fixed (float* xp = x, yp = y, pp = plain)
                for (var round = -3; round < Rounds; round++)
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
                    model.Step(1, 256 + Math.Max(0, round + 3), cache, logits);
                    var t2 = clock.Elapsed.TotalMilliseconds;
                    if (round >= 0)
                    {
                        read.Add(t0);
                        products.Add(t1);
                        steps.Add(t2);
                    }
                }
            double Median(List<double> t) => t.Order().ElementAt(t.Count / 2);
            var gb = bytes / 1e9;
            output.WriteLine($"{type} {MatVec.Path}/{Q8MatVec.Path}, {gb * 1e3:F0} MB of weights; median (best) of {Rounds}");
            output.WriteLine($"  plain read     {Median(read),6:F2} ms ({read.Min():F2})  {gb / Median(read) * 1e3:F1} GB/s");
            output.WriteLine($"  products only  {Median(products),6:F2} ms ({products.Min():F2})  {gb / Median(products) * 1e3:F1} GB/s");
            output.WriteLine($"  whole step     {Median(steps),6:F2} ms ({steps.Min():F2})  {1e3 / Median(steps):F1} tok/s");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A decoding step of 16 sequences at 160 positions each, as the serving benchmark's 16 concurrent requests run.</summary>
    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.Q8)]
    public void SmolStepOf16(WeightType type)
    {
        KernelThreads.Count = Environment.ProcessorCount;
        var directory = Directory.CreateTempSubdirectory("decode-bench-").FullName;
        try
        {
            Inference.Cli.InitRandomCommand.Run(new Inference.Cli.Args(["--preset", "smol135", "--out", directory]));
            var model = LlamaModel.Load(directory, weightType: type);
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
            var median = times.Order().ElementAt(times.Count / 2);
            output.WriteLine($"{type} {MatVec.Path}/{Q8MatVec.Path}: 16 sequences, step {median:F2} ms (best {times.Min():F2}), {16 * 1e3 / median:F0} tok/s");
            foreach (var cache in caches)
                cache.Dispose();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

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
        var perWeight = type switch { WeightType.F32 => 4.0, WeightType.Bf16 => 2.0, _ => 38.0 / 32 };
        for (var i = 0; i <= shapes.Length; i++)
        {
            var (name, rows, cols, copies) = i < shapes.Length ? (shapes[i].Name, shapes[i].Rows, shapes[i].Cols, 30) : ("lm_head", 49152, 576, 1);
            var median = Enumerable.Range(0, Rounds).Select(r => ticks[r, i] * 1e3 / Stopwatch.Frequency).Order().ElementAt(Rounds / 2);
            output.WriteLine($"  {name,-8} {rows,5}x{cols,-5} x{copies,-3} {median,6:F2} ms  {rows * (double)cols * copies * perWeight / median / 1e6,5:F1} GB/s");
        }
    }

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
