using System.Diagnostics;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using TorchSharp;
using Xunit.Abstractions;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>
/// Milliseconds and GFLOP/s of each smol135 projection at prefill sizes: LibTorch's linear (F32, and BF16
/// widened first as Linear did) against MatMul, alternated within each round so they share the machine's
/// load. A measurement, not a test: run with <c>--filter Category=Bench</c>.
/// </summary>
[Trait("Category", "Bench")]
public sealed unsafe class MatMulBench(ITestOutputHelper output)
{
    private const int Rounds = 15;

    [Fact]
    public void SmolProjections()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        KernelThreads.Count = Environment.ProcessorCount;
        output.WriteLine($"threads {Environment.ProcessorCount}, path {MatVec.Path}; median (best) of {Rounds} rounds");
        foreach (var batch in new[] { 256, 1024 })
            foreach (var (name, rows, cols) in new[] { ("qkv", 960, 576), ("o", 576, 576), ("gate/up", 3072, 576), ("down", 576, 1536) })
                Measure(name, batch, rows, cols);
    }

    /// <summary>
    /// A whole 256-token prefill of a random smol135-shaped F32 model against the same layers' projections
    /// alone (MatMul at the same shapes, 30 layers): the rest is attention, norms, rotary and LibTorch overhead.
    /// </summary>
    [Fact]
    public void SmolPrefillAgainstItsProjections()
    {
        KernelThreads.Count = Environment.ProcessorCount;
        torch.set_num_threads(Environment.ProcessorCount);
        var directory = Directory.CreateTempSubdirectory("matmul-bench-").FullName;
        try
        {
            Inference.Cli.InitRandomCommand.Run(new Inference.Cli.Args(["--preset", "smol135", "--out", directory]));
            var model = LlamaModel.Load(directory);
            var prompt = Enumerable.Range(0, 256).Select(i => i * 7919 % model.Config.VocabSize).ToArray();
            var (prefill, projections) = (new List<double>(), new List<double>());
            using var scope = torch.NewDisposeScope();
            var shapes = new[] { (960, 576), (576, 576), (3072, 576), (576, 1536) }
                .Select(s => (Rows: s.Item1, Cols: s.Item2, W: torch.randn(s.Item1, s.Item2), X: torch.randn(256, s.Item2), Y: torch.empty(256, s.Item1)))
                .ToArray();
            for (var round = -2; round < 7; round++)
            {
                using (var cache = new KvCache(model.Config, prompt.Length, model.Device))
                {
                    var clock = Stopwatch.StartNew();
                    model.Forward(prompt, 0, cache).Dispose();
                    if (round >= 0)
                        prefill.Add(clock.Elapsed.TotalMilliseconds);
                }

                var layers = Stopwatch.StartNew();
                for (var layer = 0; layer < model.Config.NumLayers; layer++)
                    foreach (var (rows, cols, w, x, y) in shapes)
                        MatMul.F32(TensorMemory.Pointer<float>(w), TensorMemory.Pointer<float>(x), TensorMemory.Pointer<float>(y), rows, cols, 256);
                if (round >= 0)
                    projections.Add(layers.Elapsed.TotalMilliseconds);
            }

            double Median(List<double> t) => t.Order().ElementAt(t.Count / 2);
            output.WriteLine($"prefill 256 tokens: {Median(prefill):F0} ms ({256 / Median(prefill) * 1e3:F0} tok/s), best {prefill.Min():F0} ms; " +
                $"its projections alone: {Median(projections):F0} ms, best {projections.Min():F0} ms");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private void Measure(string name, int batch, int rows, int cols)
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.randn(rows, cols);
        var wBf16 = w.to(torch.bfloat16);
        var x = torch.randn(batch, cols);
        var y = torch.empty(batch, rows);
        var (pw, pb, px, py) = ((nint)TensorMemory.Pointer<float>(w), (nint)TensorMemory.Pointer<ushort>(wBf16), (nint)TensorMemory.Pointer<float>(x), (nint)TensorMemory.Pointer<float>(y));
        Action[] candidates =
        [
            () => torch.nn.functional.linear(x, w).Dispose(),
            () => MatMul.F32((float*)pw, (float*)px, (float*)py, rows, cols, batch),
            () =>
            {
                using var widened = wBf16.to(torch.float32);
                torch.nn.functional.linear(x, widened).Dispose();
            },
            () => MatMul.Bf16((ushort*)pb, (float*)px, (float*)py, rows, cols, batch),
        ];
        var times = candidates.Select(_ => new List<double>()).ToArray();
        for (var round = -2; round < Rounds; round++)
            for (var i = 0; i < candidates.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                candidates[i]();
                if (round >= 0)
                    times[i].Add(clock.Elapsed.TotalMilliseconds);
            }

        var gflop = 2.0 * batch * rows * cols / 1e9;
        var medians = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
        string Cell(int i) => $"{medians[i],6:F2} ms {gflop / medians[i] * 1e3,5:F1} ({gflop / times[i].Min() * 1e3,5:F1}) GF/s";
        output.WriteLine($"{name,-8} M={batch,4} {cols,4}→{rows,-4} | torch F32 {Cell(0)} | ours F32 {Cell(1)} | torch BF16 {Cell(2)} | ours BF16 {Cell(3)}");
    }

}
