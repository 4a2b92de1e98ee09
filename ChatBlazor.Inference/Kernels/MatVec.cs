using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// Matrix × few-vectors products for decoding: <c>y[b, r] = Σc x[b, c] · w[r, c]</c>.
/// </summary>
/// <remarks>
/// At batch 1 this is bound by how fast the weights stream from memory, so each call reads every weight
/// exactly once however large the batch: the rows are cut into tiles of 4, and all of the batch's
/// vectors are multiplied against a tile (from L1, after its first pass) before moving on. Within a
/// tile each input load serves 4 rows and each weight load serves up to 4 inputs. Rows are split
/// between <see cref="KernelThreads"/> in whole tiles.
/// <para>All arithmetic is F32 with fused multiply-adds; results differ from a sequential sum only by
/// summation order. BF16 weights are widened exactly to F32 in registers. (AVX512-BF16's dot product
/// instruction would also round the inputs to BF16, so it is not used.)</para>
/// </remarks>
public static unsafe class MatVec
{
    private const int TileRows = 4;

    // Below this much weight per thread, waking another thread costs more than it saves (a 576 × 576 F32
    // matrix is 1.3 MB and takes ~30 µs; dispatch costs a few µs).
    private const long MinWeightBytesPerThread = 64 * 1024;

    /// <summary>The fastest instruction set this machine supports, picked once at start-up.</summary>
    public static SimdPath Path { get; } =
        Avx512Simd.IsSupported ? SimdPath.Avx512
        : Avx2Simd.IsSupported ? SimdPath.Avx2
        : SimdPath.Portable;

    /// <summary>
    /// <c>y[b, r] = Σc x[b, c] · w[r, c]</c> for b &lt; batch, r &lt; rows, c &lt; cols. All row-major:
    /// w is rows × cols, x is batch × cols, y (overwritten) is batch × rows. y must not overlap w or x.
    /// </summary>
    public static void F32(float* w, float* x, float* y, int rows, int cols, int batch = 1) =>
        Multiply(w, isBf16: false, x, y, rows, cols, batch, Path, ThreadsFor(rows, cols, sizeof(float)));

    /// <summary>As <see cref="F32"/>, with w in BF16 given as raw bits (the top 16 bits of an F32).</summary>
    public static void Bf16(ushort* w, float* x, float* y, int rows, int cols, int batch = 1) =>
        Multiply(w, isBf16: true, x, y, rows, cols, batch, Path, ThreadsFor(rows, cols, sizeof(ushort)));

    internal static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Avx512 => Avx512Simd.IsSupported,
        SimdPath.Avx2 => Avx2Simd.IsSupported,
        SimdPath.Portable => true,
        _ => false,
    };

    /// <summary>The public entry points with the instruction set and thread count chosen by the caller (tests).</summary>
    internal static void Multiply(
        void* w, bool isBf16, float* x, float* y, int rows, int cols, int batch, SimdPath path, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (w == null || x == null || y == null)
            throw new ArgumentNullException(w == null ? nameof(w) : x == null ? nameof(x) : nameof(y));
        if (!IsSupported(path))
            throw new PlatformNotSupportedException($"This CPU cannot run the {path} kernels.");
        if (rows == 0)
            return;

        var job = new Job(w, isBf16, x, y, rows, cols, batch, path);
        KernelThreads.Run(&RunShare, &job, Math.Min(threads, TileCount(rows)));
    }

    private static int ThreadsFor(int rows, int cols, int weightSize)
    {
        var weightBytes = (long)rows * cols * weightSize;
        var worthwhile = Math.Min(weightBytes / MinWeightBytesPerThread, TileCount(rows));
        return (int)Math.Clamp(worthwhile, 1, KernelThreads.Count);
    }

    private static int TileCount(int rows) => (rows + TileRows - 1) / TileRows;

    // Lives on the dispatching thread's stack for the duration of KernelThreads.Run.
    private readonly struct Job(
        void* w, bool isBf16, float* x, float* y, int rows, int cols, int batch, SimdPath path)
    {
        public readonly void* W = w;
        public readonly bool IsBf16 = isBf16;
        public readonly float* X = x;
        public readonly float* Y = y;
        public readonly int Rows = rows;
        public readonly int Cols = cols;
        public readonly int Batch = batch;
        public readonly SimdPath Path = path;
    }

    // One thread's contiguous run of whole tiles, so each thread streams its own slab of w.
    private static void RunShare(void* state, int index, int count)
    {
        var job = (Job*)state;
        var tiles = TileCount(job->Rows);
        var first = (int)((long)tiles * index / count) * TileRows;
        var end = Math.Min((int)((long)tiles * (index + 1) / count) * TileRows, job->Rows);
        var w = job->W;
        var x = job->X;
        var y = job->Y;
        var (rows, cols, batch) = (job->Rows, job->Cols, job->Batch);

        switch (job->Path, job->IsBf16)
        {
            case (SimdPath.Avx512, false):
                Rows<Avx512Simd, Vector512<float>, float>((float*)w, x, y, first, end, rows, cols, batch);
                break;
            case (SimdPath.Avx512, true):
                Rows<Avx512Simd, Vector512<float>, ushort>((ushort*)w, x, y, first, end, rows, cols, batch);
                break;
            case (SimdPath.Avx2, false):
                Rows<Avx2Simd, Vector256<float>, float>((float*)w, x, y, first, end, rows, cols, batch);
                break;
            case (SimdPath.Avx2, true):
                Rows<Avx2Simd, Vector256<float>, ushort>((ushort*)w, x, y, first, end, rows, cols, batch);
                break;
            case (SimdPath.Portable, false):
                Rows<PortableSimd, Vector<float>, float>((float*)w, x, y, first, end, rows, cols, batch);
                break;
            default:
                Rows<PortableSimd, Vector<float>, ushort>((ushort*)w, x, y, first, end, rows, cols, batch);
                break;
        }
    }

    // Fully optimised from the first call: tier-0 code of these generic loops is ~20x slower, and the first
    // token of a conversation should not pay for warming them up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TSimd, TVector, TWeight>(
        TWeight* w, float* x, float* y, int first, int end, int rows, int cols, int batch)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
    {
        for (var row = first; row < end; row += TileRows)
        {
            // The first pass brings the tile's rows in from memory; later passes find them in L1/L2.
            var b = 0;
            while (b < batch)
            {
                var left = batch - b;
                var prefetch = b == 0 ? (byte*)(w + (nint)(row + TileRows) * cols) : null;
                if (left >= 4 && TSimd.MaxBatch >= 4)
                {
                    Tile<TSimd, TVector, TWeight, Four>(w, x, y, row, rows, cols, b, prefetch);
                    b += 4;
                }
                else if (left == 3 && TSimd.MaxBatch >= 3)
                {
                    Tile<TSimd, TVector, TWeight, Three>(w, x, y, row, rows, cols, b, prefetch);
                    b += 3;
                }
                else if (left >= 2)
                {
                    Tile<TSimd, TVector, TWeight, Two>(w, x, y, row, rows, cols, b, prefetch);
                    b += 2;
                }
                else
                {
                    Tile<TSimd, TVector, TWeight, One>(w, x, y, row, rows, cols, b, prefetch);
                    b += 1;
                }
            }
        }
    }

    /// <summary>
    /// y for rows [row, row + 4) and inputs [b, b + TBatch.Value): 4 × TBatch accumulators, each fed
    /// 2 vectors per step, then the columns left over by the vector loop added one at a time.
    /// </summary>
    /// <remarks>
    /// The accumulators are separate locals, not an array, so the JIT keeps them all in registers; the
    /// <c>TBatch.Value</c> tests are constants once the JIT specialises the method, so the unused ones
    /// vanish. A tile running past the last row re-reads the last row (already in cache) and does not
    /// store, which spares a separate kernel for the last 1–3 rows.
    /// </remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TSimd, TVector, TWeight, TBatch>(
        TWeight* w, float* x, float* y, int row, int rows, int cols, int b, byte* prefetch)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
        where TBatch : IBatchSize
    {
        var w0 = w + (nint)row * cols;
        var w1 = w + (nint)Math.Min(row + 1, rows - 1) * cols;
        var w2 = w + (nint)Math.Min(row + 2, rows - 1) * cols;
        var w3 = w + (nint)Math.Min(row + 3, rows - 1) * cols;
        var x0 = x + (nint)b * cols;
        var x1 = x0 + cols;
        var x2 = x1 + cols;
        var x3 = x2 + cols;

        TVector a00 = default, a01 = default, a02 = default, a03 = default; // row 0 × inputs 0..3
        TVector a10 = default, a11 = default, a12 = default, a13 = default;
        TVector a20 = default, a21 = default, a22 = default, a23 = default;
        TVector a30 = default, a31 = default, a32 = default, a33 = default;
        TVector x0Low = default, x0High = default, x1Low = default, x1High = default;
        TVector x2Low = default, x2High = default, x3Low = default, x3High = default;

        var step = 2 * TSimd.Width;
        var stepBytes = TileRows * step * sizeof(TWeight);
        var c = 0;
        for (; c <= cols - step; c += step)
        {
            if (prefetch != null)
            {
                for (var offset = 0; offset < stepBytes; offset += 64)
                    TSimd.Prefetch(prefetch + offset);
                prefetch += stepBytes;
            }

            TSimd.Load(x0 + c, out x0Low, out x0High);
            if (TBatch.Value > 1) TSimd.Load(x1 + c, out x1Low, out x1High);
            if (TBatch.Value > 2) TSimd.Load(x2 + c, out x2Low, out x2High);
            if (TBatch.Value > 3) TSimd.Load(x3 + c, out x3Low, out x3High);

            LoadWeights<TSimd, TVector, TWeight>(w0 + c, out var low, out var high);
            a00 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a00);
            if (TBatch.Value > 1) a01 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a01);
            if (TBatch.Value > 2) a02 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a02);
            if (TBatch.Value > 3) a03 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a03);

            LoadWeights<TSimd, TVector, TWeight>(w1 + c, out low, out high);
            a10 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a10);
            if (TBatch.Value > 1) a11 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a11);
            if (TBatch.Value > 2) a12 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a12);
            if (TBatch.Value > 3) a13 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a13);

            LoadWeights<TSimd, TVector, TWeight>(w2 + c, out low, out high);
            a20 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a20);
            if (TBatch.Value > 1) a21 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a21);
            if (TBatch.Value > 2) a22 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a22);
            if (TBatch.Value > 3) a23 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a23);

            LoadWeights<TSimd, TVector, TWeight>(w3 + c, out low, out high);
            a30 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a30);
            if (TBatch.Value > 1) a31 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a31);
            if (TBatch.Value > 2) a32 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a32);
            if (TBatch.Value > 3) a33 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a33);
        }

        var y0 = y + (nint)b * rows + row; // y[b, row]; the next input's outputs are `rows` further on
        Finish<TSimd, TVector, TWeight, TBatch>(w0, x0, y0, rows, cols, c, a00, a01, a02, a03);
        if (row + 1 < rows) Finish<TSimd, TVector, TWeight, TBatch>(w1, x0, y0 + 1, rows, cols, c, a10, a11, a12, a13);
        if (row + 2 < rows) Finish<TSimd, TVector, TWeight, TBatch>(w2, x0, y0 + 2, rows, cols, c, a20, a21, a22, a23);
        if (row + 3 < rows) Finish<TSimd, TVector, TWeight, TBatch>(w3, x0, y0 + 3, rows, cols, c, a30, a31, a32, a33);
    }

    /// <summary>Writes one row's outputs: each accumulator's lanes plus the leftover columns from c on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TSimd, TVector, TWeight, TBatch>(
        TWeight* wRow, float* x0, float* y0, int rows, int cols, int c,
        TVector a0, TVector a1, TVector a2, TVector a3)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
        where TBatch : IBatchSize
    {
        y0[0] = TSimd.Sum(a0) + LeftoverDot(wRow, x0, c, cols);
        if (TBatch.Value > 1) y0[rows] = TSimd.Sum(a1) + LeftoverDot(wRow, x0 + cols, c, cols);
        if (TBatch.Value > 2) y0[2 * rows] = TSimd.Sum(a2) + LeftoverDot(wRow, x0 + 2 * cols, c, cols);
        if (TBatch.Value > 3) y0[3 * rows] = TSimd.Sum(a3) + LeftoverDot(wRow, x0 + 3 * cols, c, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LeftoverDot<TWeight>(TWeight* w, float* x, int from, int cols)
        where TWeight : unmanaged
    {
        var sum = 0f;
        for (var c = from; c < cols; c++)
            sum += ToSingle(w[c]) * x[c];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Dot<TSimd, TVector>(TVector wLow, TVector wHigh, TVector xLow, TVector xHigh, TVector sum)
        where TSimd : ISimd<TVector>
        where TVector : struct =>
        TSimd.MultiplyAdd(wHigh, xHigh, TSimd.MultiplyAdd(wLow, xLow, sum));

    // typeof(TWeight) == typeof(float) is a JIT-time constant, so only one branch is compiled.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadWeights<TSimd, TVector, TWeight>(TWeight* source, out TVector low, out TVector high)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
    {
        if (typeof(TWeight) == typeof(float))
            TSimd.Load((float*)source, out low, out high);
        else
            TSimd.Load((ushort*)source, out low, out high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ToSingle<TWeight>(TWeight value)
        where TWeight : unmanaged =>
        typeof(TWeight) == typeof(float)
            ? Unsafe.As<TWeight, float>(ref value)
            : BitConverter.Int32BitsToSingle(Unsafe.As<TWeight, ushort>(ref value) << 16);

    private interface IBatchSize
    {
        static abstract int Value { get; }
    }

    private readonly struct One : IBatchSize { public static int Value => 1; }

    private readonly struct Two : IBatchSize { public static int Value => 2; }

    private readonly struct Three : IBatchSize { public static int Value => 3; }

    private readonly struct Four : IBatchSize { public static int Value => 4; }
}
