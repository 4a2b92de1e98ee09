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
        output.WriteLine($"threads {Environment.ProcessorCount}, path {MatVec.Path}; median of {Rounds} rounds");
        foreach (var batch in new[] { 256, 1024 })
            foreach (var (name, rows, cols) in new[] { ("qkv", 1728, 576), ("o", 576, 576), ("gate/up", 3072, 576), ("down", 576, 1536) })
                Measure(name, batch, rows, cols);
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
        string Cell(int i) => $"{medians[i],7:F2} ms {gflop / medians[i] * 1e3,6:F1} GF/s";
        output.WriteLine($"{name,-8} M={batch,4} {cols,4}→{rows,-4} | torch F32 {Cell(0)} | ours F32 {Cell(1)} | torch BF16 {Cell(2)} | ours BF16 {Cell(3)}");
    }
}
