using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// Matrix × matrix products for prefill: <c>y[b, r] = bias[r] + Σc x[b, c] · w[r, c]</c>, many inputs at once.
/// </summary>
/// <remarks>
/// <para>The classic packed layout. The inputs are copied once (per block of 960) into panels of
/// <c>TRows.Value</c> rows stored column by column (a panel's values for one c are adjacent). Each work item
/// is one panel of 2 × Width weight rows, copied (and for BF16 widened) into a per-thread buffer column by
/// column, so one step of the micro-kernel reads 2 weight vectors and broadcasts one input per panel row:
/// TRows × 2 accumulators, each fed one fused multiply-add per step, all the way through c, then stored
/// once. A weight panel is at most 2 × 16 × 1536 × 4 = 196 KB, so it stays in L2 while every input panel
/// streams past it; an input panel costs 12 floats per 24 multiply-adds, which even L3 keeps up with.</para>
/// <para>BF16 weights are widened to F32 while packing and all arithmetic is F32. AVX512-BF16's vdpbf16ps
/// (present on this CPU) would halve the arithmetic, rounding the inputs to BF16 as well, but .NET 10 exposes
/// no intrinsic for it, so this path saves memory traffic, and the whole-matrix widened copy LibTorch would
/// need, not multiply-adds.</para>
/// <para>Results differ from a sequential sum only by summation order (bias first, then c in order, fused).</para>
/// </remarks>
public static unsafe class MatMul
{
    // Below this much arithmetic per thread, waking another thread costs more than it saves (~20 µs).
    private const long MinFlopsPerThread = 1 << 20;

    // Longer inputs go through in blocks of this many rows (a multiple of both panel heights), which bounds the
    // packed copy (3.7 MB at 960 × 1536 floats) and costs one more packing of the weights per block: at most 1%.
    private const int BlockRows = 960;

    /// <summary>
    /// <c>y[b, r] = bias[r] + Σc x[b, c] · w[r, c]</c> for b &lt; batch, r &lt; rows, c &lt; cols. All row-major:
    /// w is rows × cols, x is batch × cols, y (overwritten) is batch × rows; bias (rows) may be null. y must
    /// not overlap w, x or bias. Runs on up to <see cref="KernelThreads.Count"/> threads, with the instruction
    /// set <see cref="MatVec.Path"/> names when called.
    /// </summary>
    public static void F32(float* w, float* x, float* y, int rows, int cols, int batch, float* bias = null) =>
        Multiply(w, isBf16: false, x, bias, y, rows, cols, batch, MatVec.Path, KernelThreads.Count);

    /// <summary>As <see cref="F32"/>, with w in BF16 given as raw bits (the top 16 bits of an F32).</summary>
    public static void Bf16(ushort* w, float* x, float* y, int rows, int cols, int batch, float* bias = null) =>
        Multiply(w, isBf16: true, x, bias, y, rows, cols, batch, MatVec.Path, KernelThreads.Count);

    /// <summary>As <see cref="F32"/>, with w in 8 bits: each value widened to F32 times its block's scale while packing.</summary>
    public static void Q8(Q8Weights w, float* x, float* y, int batch, float* bias = null) =>
        Multiply(w.Values, isBf16: false, x, bias, y, w.Rows, w.Cols, batch, MatVec.Path, KernelThreads.Count, w.Scales);

    /// <summary>
    /// The public entry points with the instruction set and thread limit chosen by the caller (tests). With
    /// <paramref name="q8Scales"/>, w is 8-bit values and scales laid out as <see cref="Q8Weights"/> keeps them.
    /// </summary>
    internal static void Multiply(
        void* w, bool isBf16, float* x, float* bias, float* y, int rows, int cols, int batch, SimdPath path, int maxThreads,
        float* q8Scales = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        if (w == null || x == null || y == null)
            throw new ArgumentNullException(w == null ? nameof(w) : x == null ? nameof(x) : nameof(y));
        if (!MatVec.IsSupported(path))
            throw new PlatformNotSupportedException($"This CPU cannot run the {path} kernels.");
        if (rows == 0 || batch == 0)
            return;

        switch (path)
        {
            case SimdPath.Avx512:
                Run<Avx512Block, Vector512<float>, Twelve>(w, isBf16, q8Scales, x, bias, y, rows, cols, batch, maxThreads);
                break;
            case SimdPath.Avx2:
                Run<Avx2Block, Vector256<float>, Six>(w, isBf16, q8Scales, x, bias, y, rows, cols, batch, maxThreads);
                break;
            default:
                Run<PortableBlock, Vector<float>, Six>(w, isBf16, q8Scales, x, bias, y, rows, cols, batch, maxThreads);
                break;
        }
    }

    // The packed inputs of the calling thread, and each thread's packed weight panel. Kept between calls:
    // prefill makes seven products per layer, and fresh multi-megabyte allocations come back as new pages
    // from the kernel, each one faulted in again. They only grow, to the largest product seen.
    [ThreadStatic] private static float* _inputs;
    [ThreadStatic] private static long _inputsFloats;
    [ThreadStatic] private static float* _panel;
    [ThreadStatic] private static long _panelFloats;

    private static float* Buffer(ref float* buffer, ref long floats, long needed)
    {
        if (floats >= needed)
            return buffer;
        NativeMemory.AlignedFree(buffer);
        buffer = null;
        floats = 0;
        buffer = (float*)NativeMemory.AlignedAlloc((nuint)(needed * sizeof(float)), 64);
        floats = needed;
        return buffer;
    }

    private static void Run<TSimd, TVector, TRows>(
        void* w, bool isBf16, float* q8Scales, float* x, float* bias, float* y, int rows, int cols, int batch, int maxThreads)
        where TSimd : IBlockSimd<TVector>
        where TVector : struct
        where TRows : ICount
    {
        var weightPanels = (rows + 2 * TSimd.Width - 1) / (2 * TSimd.Width);
        for (var start = 0; start < batch; start += BlockRows)
        {
            var count = Math.Min(BlockRows, batch - start);
            var inputPanels = (count + TRows.Value - 1) / TRows.Value;
            var flops = 2L * count * rows * Math.Max(cols, 1);
            var threads = (int)Math.Clamp(flops / MinFlopsPerThread, 1, maxThreads);
            var packed = Buffer(ref _inputs, ref _inputsFloats, Math.Max(1L, (long)inputPanels * TRows.Value * cols));

            var job = new Job(w, isBf16, q8Scales, x + (long)start * cols, packed, bias, y + (long)start * rows, rows, cols, count);
            KernelThreads.For(inputPanels, &PackInputs<TRows>, &job, threads);
            KernelThreads.For(weightPanels, &WeightPanel<TSimd, TVector, TRows>, &job, threads);
        }
    }

    // Lives on the dispatching thread's stack for the duration of KernelThreads.For.
    private readonly struct Job(void* w, bool isBf16, float* q8Scales, float* x, float* packed, float* bias, float* y, int rows, int cols, int batch)
    {
        public readonly void* W = w;
        public readonly bool IsBf16 = isBf16;
        public readonly float* Q8Scales = q8Scales;
        public readonly float* X = x;
        public readonly float* Packed = packed;
        public readonly float* Bias = bias;
        public readonly float* Y = y;
        public readonly int Rows = rows;
        public readonly int Cols = cols;
        public readonly int Batch = batch;
    }

    /// <summary>Input panel p: rows [p·R, p·R + R) of x, column by column, rows past the end as zeros.</summary>
    private static void PackInputs<TRows>(void* state, int panel)
        where TRows : ICount
    {
        var job = (Job*)state;
        var (cols, batch) = (job->Cols, job->Batch);
        var packed = job->Packed + (long)panel * TRows.Value * cols;
        for (var i = 0; i < TRows.Value; i++)
        {
            var b = panel * TRows.Value + i;
            if (b < batch)
            {
                var source = job->X + (long)b * cols;
                for (var c = 0; c < cols; c++)
                    packed[c * TRows.Value + i] = source[c];
            }
            else
            {
                for (var c = 0; c < cols; c++)
                    packed[c * TRows.Value + i] = 0;
            }
        }
    }

    /// <summary>
    /// Outputs [panel · 2W, panel · 2W + 2W) for every input: packs that panel of weights (bias first, then
    /// column by column, rows past the end as zeros), then runs the micro-kernel over each input panel.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightPanel<TSimd, TVector, TRows>(void* state, int panel)
        where TSimd : IBlockSimd<TVector>
        where TVector : struct
        where TRows : ICount
    {
        var job = (Job*)state;
        var (rows, cols, batch) = (job->Rows, job->Cols, job->Batch);
        var width = 2 * TSimd.Width;
        var first = panel * width;
        var count = Math.Min(width, rows - first);
        var packed = Buffer(ref _panel, ref _panelFloats, (long)(cols + 1) * width);

        for (var r = 0; r < width; r++)
        {
            packed[r] = r < count && job->Bias != null ? job->Bias[first + r] : 0;
            var destination = packed + width + r;
            if (r >= count)
            {
                for (var c = 0; c < cols; c++)
                    destination[c * width] = 0;
            }
            else if (job->Q8Scales != null)
            {
                // The same products as Q8Weights.DequantizeRow, so a prefill equals one over the widened matrix.
                Q8Weights.WidenRow((byte*)job->W, job->Q8Scales, first + r, cols, destination, width);
            }
            else if (job->IsBf16)
            {
                var source = (ushort*)job->W + (long)(first + r) * cols;
                for (var c = 0; c < cols; c++)
                    destination[c * width] = BitConverter.Int32BitsToSingle(source[c] << 16);
            }
            else
            {
                var source = (float*)job->W + (long)(first + r) * cols;
                for (var c = 0; c < cols; c++)
                    destination[c * width] = source[c];
            }
        }

        // Tiles that overhang the last input or output are computed into a scratch tile and copied out, so
        // the micro-kernel itself only ever stores whole tiles.
        var scratch = stackalloc float[TRows.Value * width];
        for (var b = 0; b < batch; b += TRows.Value)
        {
            var inputs = job->Packed + (long)b * cols;
            var tileRows = Math.Min(TRows.Value, batch - b);
            var y = job->Y + (long)b * rows + first;
            if (tileRows == TRows.Value && count == width)
            {
                Tile<TSimd, TVector, TRows>(inputs, packed, cols, y, rows);
                continue;
            }

            Tile<TSimd, TVector, TRows>(inputs, packed, cols, scratch, width);
            for (var i = 0; i < tileRows; i++)
                new ReadOnlySpan<float>(scratch + i * width, count).CopyTo(new Span<float>(y + (long)i * rows, count));
        }
    }

    /// <summary>
    /// One TRows × 2W tile of y (row stride <paramref name="stride"/>) from a packed input panel and a packed
    /// weight panel (whose first 2W floats are the bias).
    /// </summary>
    /// <remarks>
    /// The accumulators are separate locals so the JIT keeps them in registers (24 + 2 weights + 1 broadcast
    /// of the 32 zmm registers for 12 × 32; 12 + 3 of the 16 ymm registers for 6 × 16); the
    /// <c>TRows.Value</c> tests are constants once the JIT specialises the method, so unused ones vanish.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TSimd, TVector, TRows>(float* x, float* w, int cols, float* y, int stride)
        where TSimd : IBlockSimd<TVector>
        where TVector : struct
        where TRows : ICount
    {
        var n = TSimd.Width;
        var biasLow = TSimd.Load(w);
        var biasHigh = TSimd.Load(w + n);
        TVector a0 = biasLow, a1 = biasLow, a2 = biasLow, a3 = biasLow, a4 = biasLow, a5 = biasLow;
        TVector a6 = biasLow, a7 = biasLow, a8 = biasLow, a9 = biasLow, a10 = biasLow, a11 = biasLow;
        TVector b0 = biasHigh, b1 = biasHigh, b2 = biasHigh, b3 = biasHigh, b4 = biasHigh, b5 = biasHigh;
        TVector b6 = biasHigh, b7 = biasHigh, b8 = biasHigh, b9 = biasHigh, b10 = biasHigh, b11 = biasHigh;

        w += 2 * n;
        for (var c = 0; c < cols; c++, x += TRows.Value, w += 2 * n)
        {
            var low = TSimd.Load(w);
            var high = TSimd.Load(w + n);
            TVector v;
            v = TSimd.Broadcast(x[0]); a0 = TSimd.MultiplyAdd(low, v, a0); b0 = TSimd.MultiplyAdd(high, v, b0);
            v = TSimd.Broadcast(x[1]); a1 = TSimd.MultiplyAdd(low, v, a1); b1 = TSimd.MultiplyAdd(high, v, b1);
            v = TSimd.Broadcast(x[2]); a2 = TSimd.MultiplyAdd(low, v, a2); b2 = TSimd.MultiplyAdd(high, v, b2);
            v = TSimd.Broadcast(x[3]); a3 = TSimd.MultiplyAdd(low, v, a3); b3 = TSimd.MultiplyAdd(high, v, b3);
            v = TSimd.Broadcast(x[4]); a4 = TSimd.MultiplyAdd(low, v, a4); b4 = TSimd.MultiplyAdd(high, v, b4);
            v = TSimd.Broadcast(x[5]); a5 = TSimd.MultiplyAdd(low, v, a5); b5 = TSimd.MultiplyAdd(high, v, b5);
            if (TRows.Value > 6)
            {
                v = TSimd.Broadcast(x[6]); a6 = TSimd.MultiplyAdd(low, v, a6); b6 = TSimd.MultiplyAdd(high, v, b6);
                v = TSimd.Broadcast(x[7]); a7 = TSimd.MultiplyAdd(low, v, a7); b7 = TSimd.MultiplyAdd(high, v, b7);
                v = TSimd.Broadcast(x[8]); a8 = TSimd.MultiplyAdd(low, v, a8); b8 = TSimd.MultiplyAdd(high, v, b8);
                v = TSimd.Broadcast(x[9]); a9 = TSimd.MultiplyAdd(low, v, a9); b9 = TSimd.MultiplyAdd(high, v, b9);
                v = TSimd.Broadcast(x[10]); a10 = TSimd.MultiplyAdd(low, v, a10); b10 = TSimd.MultiplyAdd(high, v, b10);
                v = TSimd.Broadcast(x[11]); a11 = TSimd.MultiplyAdd(low, v, a11); b11 = TSimd.MultiplyAdd(high, v, b11);
            }
        }

        TSimd.Store(a0, y); TSimd.Store(b0, y + n); y += stride;
        TSimd.Store(a1, y); TSimd.Store(b1, y + n); y += stride;
        TSimd.Store(a2, y); TSimd.Store(b2, y + n); y += stride;
        TSimd.Store(a3, y); TSimd.Store(b3, y + n); y += stride;
        TSimd.Store(a4, y); TSimd.Store(b4, y + n); y += stride;
        TSimd.Store(a5, y); TSimd.Store(b5, y + n); y += stride;
        if (TRows.Value > 6)
        {
            TSimd.Store(a6, y); TSimd.Store(b6, y + n); y += stride;
            TSimd.Store(a7, y); TSimd.Store(b7, y + n); y += stride;
            TSimd.Store(a8, y); TSimd.Store(b8, y + n); y += stride;
            TSimd.Store(a9, y); TSimd.Store(b9, y + n); y += stride;
            TSimd.Store(a10, y); TSimd.Store(b10, y + n); y += stride;
            TSimd.Store(a11, y); TSimd.Store(b11, y + n);
        }
    }
}

/// <summary>The vector operations <see cref="MatMul"/>'s micro-kernel needs, one implementation per instruction set.</summary>
internal unsafe interface IBlockSimd<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    static abstract TVector Load(float* source);

    static abstract void Store(TVector value, float* destination);

    static abstract TVector Broadcast(float value);

    /// <summary>a × b + addend, fused where the hardware can.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector addend);
}

internal readonly unsafe struct Avx512Block : IBlockSimd<Vector512<float>>
{
    public static int Width => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> addend) =>
        System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a, b, addend);
}

internal readonly unsafe struct Avx2Block : IBlockSimd<Vector256<float>>
{
    public static int Width => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend) =>
        System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, addend);
}

internal readonly unsafe struct PortableBlock : IBlockSimd<Vector<float>>
{
    public static int Width => Vector<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(float* source) => Vector.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Broadcast(float value) => new(value);

    // Fused only where the hardware fuses; a software-emulated FMA would be far slower than a * b + c.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> addend) =>
        Vector.MultiplyAddEstimate(a, b, addend);
}
