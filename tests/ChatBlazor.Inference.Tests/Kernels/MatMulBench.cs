using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
        output.WriteLine($"one core's F32 fused multiply-adds, best of 20: {Enumerable.Range(0, 20).Max(_ => CorePeakGflops()):F1} GFLOP/s");
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
        string Cell(int i) => $"{medians[i],6:F2} ms {gflop / medians[i] * 1e3,5:F1} ({gflop / times[i].Min() * 1e3,5:F1}) GF/s";
        output.WriteLine($"{name,-8} M={batch,4} {cols,4}→{rows,-4} | torch F32 {Cell(0)} | ours F32 {Cell(1)} | torch BF16 {Cell(2)} | ours BF16 {Cell(3)}");
    }

    /// <summary>
    /// What one core really sustains (the clock in /proc/cpuinfo is the base clock, not the boost clock the
    /// products run at): 24 independent chains of 512-bit fused multiply-adds, as many as the micro-kernel keeps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double CorePeakGflops()
    {
        const int Steps = 1 << 17;
        var (a0, a1, a2, a3, a4, a5) = (Vector512<float>.One, Vector512<float>.One, Vector512<float>.One, Vector512<float>.One, Vector512<float>.One, Vector512<float>.One);
        var (a6, a7, a8, a9, a10, a11) = (a0, a0, a0, a0, a0, a0);
        var (b0, b1, b2, b3, b4, b5) = (a0, a0, a0, a0, a0, a0);
        var (b6, b7, b8, b9, b10, b11) = (a0, a0, a0, a0, a0, a0);
        var (m, c) = (Vector512.Create(0.999f), Vector512.Create(1e-3f));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Steps; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c); a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c); a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
            b0 = Vector512.FusedMultiplyAdd(b0, m, c); b1 = Vector512.FusedMultiplyAdd(b1, m, c); b2 = Vector512.FusedMultiplyAdd(b2, m, c);
            b3 = Vector512.FusedMultiplyAdd(b3, m, c); b4 = Vector512.FusedMultiplyAdd(b4, m, c); b5 = Vector512.FusedMultiplyAdd(b5, m, c);
            b6 = Vector512.FusedMultiplyAdd(b6, m, c); b7 = Vector512.FusedMultiplyAdd(b7, m, c); b8 = Vector512.FusedMultiplyAdd(b8, m, c);
            b9 = Vector512.FusedMultiplyAdd(b9, m, c); b10 = Vector512.FusedMultiplyAdd(b10, m, c); b11 = Vector512.FusedMultiplyAdd(b11, m, c);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9 + b10 + b11;
        GC.KeepAlive(sum); // the chains' results are used, so none is optimised away
        return 24.0 * 2 * Vector512<float>.Count * Steps / seconds / 1e9;
    }
}
