using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// Matrix × few-vectors products for decoding: <c>y[b, r] = Σc x[b, c] · w[r, c]</c>.
/// </summary>
/// <remarks>
/// Each call reads every weight from memory exactly once, however large the batch: all of the batch's
/// vectors are multiplied against a stretch of rows (from L1/L2 after the first pass) before moving on.
/// At 1–2 inputs the stretch is a single row, so the weights stream strictly in order, which is what the
/// memory-bound case needs. From 3 inputs on it is a tile of 4 rows, where each input load serves 4
/// rows and each weight load up to 4 inputs, which is what the arithmetic-bound case needs. Rows are
/// shared out between <see cref="KernelThreads"/> in chunks of whole 4-row tiles.
/// <para>All arithmetic is F32 with fused multiply-adds; results differ from a sequential sum only by
/// summation order. BF16 weights are widened exactly to F32 in registers. (AVX512-BF16's dot product
/// instruction would also round the inputs to BF16, so it is not used.)</para>
/// </remarks>
public static unsafe class MatVec
{
    private const int TileRows = 4;

    // A tile's 4 rows are read as 4 interleaved streams that restart every tile, which the hardware
    // prefetcher follows poorly (on one large matrix, ~60% of a plain sequential read). Asking for the
    // rows two tiles ahead, into L2 only, brings it to ~95%; one tile ahead, or into L1, measured slower.
    private const int PrefetchTiles = 2;

    // Up to this many inputs the product is bound by memory, and rows go one at a time: a purely
    // sequential read, which the hardware prefetcher follows best (a whole decode step's F32 products,
    // batch 1, took 17.9 ms this way and 22–23 ms as 4-row tiles). From 3 inputs on, arithmetic
    // dominates, and 4-row tiles, where each input load serves 4 rows, win (batch 4: 20 ms against 27).
    private const int SequentialMaxBatch = 2;

    // Below this much weight per thread, waking another thread costs more than it saves (a 576 × 576 F32
    // matrix is 1.3 MB and takes ~30 µs; dispatch costs ~1 µs).
    private const long MinWeightBytesPerThread = 64 * 1024;

    // Rows are handed out in chunks of whole tiles: about 8 per thread, so a thread that was preempted
    // or started late costs at most a small share, but each at least 64 KB (a few µs, against ~0.1 µs to
    // claim one) and at most 1 MB.
    private const int ChunksPerThread = 8;
    private const long MinChunkBytes = 64 * 1024;
    private const long MaxChunkBytes = 1024 * 1024;

    private static readonly SimdPath _best =
        Avx512Simd.IsSupported ? SimdPath.Avx512
        : Avx2Simd.IsSupported ? SimdPath.Avx2
        : SimdPath.Portable;

    // Per async flow rather than per process: xunit runs test classes in parallel, and one class forcing a path
    // must not move another's decoding onto it halfway through a comparison.
    private static readonly AsyncLocal<SimdPath?> _override = new();

    /// <summary>
    /// The instruction set the kernels run on: the fastest this machine supports, picked once at start-up, unless
    /// <see cref="UsePath"/> overrides it. Read on every call.
    /// </summary>
    public static SimdPath Path => _override.Value ?? _best;

    /// <summary>The path forced by <see cref="UsePath"/> in this flow, if any.</summary>
    internal static SimdPath? PathOverride => _override.Value;

    /// <summary>
    /// Makes every kernel called from this thread or async flow (and the tasks it starts) run on
    /// <paramref name="path"/> until the returned scope is disposed: tests run the whole model on each path this way.
    /// <see cref="Q8MatVec.Path"/> follows it.
    /// </summary>
    internal static PathScope UsePath(SimdPath path)
    {
        if (!IsSupported(path))
            throw new PlatformNotSupportedException($"This CPU cannot run the {path} kernels.");
        var scope = new PathScope(_override.Value);
        _override.Value = path;
        return scope;
    }

    internal readonly struct PathScope(SimdPath? previous) : IDisposable
    {
        public void Dispose() => _override.Value = previous;
    }

    /// <summary>
    /// <c>y[b, r] = Σc x[b, c] · w[r, c]</c> for b &lt; batch, r &lt; rows, c &lt; cols. All row-major:
    /// w is rows × cols, x is batch × cols, y (overwritten) is batch × rows. y must not overlap w or x.
    /// Runs on up to <see cref="KernelThreads.Count"/> threads.
    /// </summary>
    public static void F32(float* w, float* x, float* y, int rows, int cols, int batch = 1) =>
        Multiply(w, isBf16: false, x, y, rows, cols, batch, Path, KernelThreads.Count);

    /// <summary>As <see cref="F32"/>, with w in BF16 given as raw bits (the top 16 bits of an F32).</summary>
    public static void Bf16(ushort* w, float* x, float* y, int rows, int cols, int batch = 1) =>
        Multiply(w, isBf16: true, x, y, rows, cols, batch, Path, KernelThreads.Count);

    internal static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Avx512 => Avx512Simd.IsSupported,
        SimdPath.Avx2 => Avx2Simd.IsSupported,
        SimdPath.Portable => true,
        _ => false,
    };

    /// <summary>
    /// The public entry points with the instruction set, the thread limit and (if not 0) the rows per
    /// work item chosen by the caller: tests use it to run every path and awkward splits.
    /// </summary>
    internal static void Multiply(
        void* w, bool isBf16, float* x, float* y, int rows, int cols, int batch, SimdPath path, int maxThreads,
        int chunkTiles = 0)
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

        var tiles = (rows + TileRows - 1) / TileRows;
        var tileBytes = (long)TileRows * cols * (isBf16 ? sizeof(ushort) : sizeof(float));
        var threads = (int)Math.Clamp(tiles * tileBytes / MinWeightBytesPerThread, 1, maxThreads);
        if (chunkTiles <= 0)
        {
            var chunkBytes = Math.Clamp(tiles * tileBytes / (threads * ChunksPerThread), MinChunkBytes, MaxChunkBytes);
            chunkTiles = threads == 1 ? tiles : (int)Math.Max(1, chunkBytes / Math.Max(1, tileBytes));
        }

        var job = new Job(w, isBf16, x, y, rows, cols, batch, path, chunkTiles);
        var chunks = (int)(((long)tiles + chunkTiles - 1) / chunkTiles);
        KernelThreads.For(chunks, &RunChunk, &job, threads);
    }

    // Lives on the dispatching thread's stack for the duration of KernelThreads.For.
    private readonly struct Job(
        void* w, bool isBf16, float* x, float* y, int rows, int cols, int batch, SimdPath path, int chunkTiles)
    {
        public readonly void* W = w;
        public readonly bool IsBf16 = isBf16;
        public readonly float* X = x;
        public readonly float* Y = y;
        public readonly int Rows = rows;
        public readonly int Cols = cols;
        public readonly int Batch = batch;
        public readonly SimdPath Path = path;
        public readonly int ChunkTiles = chunkTiles;
    }

    private static void RunChunk(void* state, int chunk)
    {
        var job = (Job*)state;
        var first = (int)Math.Min((long)chunk * job->ChunkTiles * TileRows, job->Rows);
        var end = (int)Math.Min((long)first + job->ChunkTiles * TileRows, job->Rows);
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

    // Fully optimised from the first call: tier-0 code (the first 30 calls, before tiering recompiles)
    // keeps every vector in memory, and the first token of a conversation should not pay for that.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TSimd, TVector, TWeight>(
        TWeight* w, float* x, float* y, int first, int end, int rows, int cols, int batch)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
    {
        if (batch <= SequentialMaxBatch)
        {
            for (var row = first; row < end; row++)
                for (var b = 0; b < batch;)
                    b += Pass<TSimd, TVector, TWeight, One>(w, x, y, row, rows, cols, b, batch - b, null, 0);
            return;
        }

        // Each pass over a tile (one per group of inputs) asks for its share of the tile two ahead, so
        // memory stays busy while later passes compute from cache.
        var passes = (batch + TSimd.MaxBatch - 1) / TSimd.MaxBatch;
        var prefetchShare = (nint)TileRows * cols * sizeof(TWeight) / passes;
        var prefetchPerStep = (TileRows * 2 * TSimd.Width * sizeof(TWeight) + passes - 1) / passes;
        for (var row = first; row < end; row += TileRows)
        {
            var prefetch = (byte*)(w + (nint)(row + PrefetchTiles * TileRows) * cols);
            for (var b = 0; b < batch; prefetch += prefetchShare)
                b += Pass<TSimd, TVector, TWeight, Four>(w, x, y, row, rows, cols, b, batch - b, prefetch, prefetchPerStep);
        }
    }

    /// <summary>One pass of <typeparamref name="TRows"/> rows over the next group of inputs; returns its size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Pass<TSimd, TVector, TWeight, TRows>(
        TWeight* w, float* x, float* y, int row, int rows, int cols, int b, int left, byte* prefetch, int prefetchPerStep)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
        where TRows : ICount
    {
        // A single row needs a quarter of the accumulators, so 4 inputs fit even in 16 registers.
        var maxBatch = TRows.Value == 1 ? 4 : TSimd.MaxBatch;
        if (left >= 4 && maxBatch >= 4)
        {
            Tile<TSimd, TVector, TWeight, TRows, Four>(w, x, y, row, rows, cols, b, prefetch, prefetchPerStep);
            return 4;
        }

        if (left == 3 && maxBatch >= 3)
        {
            Tile<TSimd, TVector, TWeight, TRows, Three>(w, x, y, row, rows, cols, b, prefetch, prefetchPerStep);
            return 3;
        }

        if (left >= 2)
        {
            Tile<TSimd, TVector, TWeight, TRows, Two>(w, x, y, row, rows, cols, b, prefetch, prefetchPerStep);
            return 2;
        }

        Tile<TSimd, TVector, TWeight, TRows, One>(w, x, y, row, rows, cols, b, prefetch, prefetchPerStep);
        return 1;
    }

    /// <summary>
    /// y for rows [row, row + TRows) and inputs [b, b + TBatch): TRows × TBatch accumulators, each fed 2
    /// vectors per step, then the columns left over by the vector loop added one at a time.
    /// </summary>
    /// <remarks>
    /// The accumulators are separate locals, not an array, so the JIT keeps them all in registers; the
    /// <c>TRows.Value</c> and <c>TBatch.Value</c> tests are constants once the JIT specialises the method,
    /// so the unused ones vanish. A tile running past the last row re-reads the last row (already in
    /// cache) and does not store, which spares a separate kernel for the last 1–3 rows.
    /// </remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TSimd, TVector, TWeight, TRows, TBatch>(
        TWeight* w, float* x, float* y, int row, int rows, int cols, int b, byte* prefetch, int prefetchPerStep)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
        where TRows : ICount
        where TBatch : ICount
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
        var prefetchTarget = prefetch;
        var c = 0;
        for (; c <= cols - step; c += step)
        {
            // This pass's share of the tile two ahead, at the pace this one is consumed.
            prefetchTarget += prefetchPerStep;
            for (; prefetch < prefetchTarget; prefetch += 64)
                TSimd.Prefetch(prefetch);

            TSimd.Load(x0 + c, out x0Low, out x0High);
            if (TBatch.Value > 1) TSimd.Load(x1 + c, out x1Low, out x1High);
            if (TBatch.Value > 2) TSimd.Load(x2 + c, out x2Low, out x2High);
            if (TBatch.Value > 3) TSimd.Load(x3 + c, out x3Low, out x3High);

            LoadWeights<TSimd, TVector, TWeight>(w0 + c, out var low, out var high);
            a00 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a00);
            if (TBatch.Value > 1) a01 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a01);
            if (TBatch.Value > 2) a02 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a02);
            if (TBatch.Value > 3) a03 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a03);

            if (TRows.Value > 1)
            {
                LoadWeights<TSimd, TVector, TWeight>(w1 + c, out low, out high);
                a10 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a10);
                if (TBatch.Value > 1) a11 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a11);
                if (TBatch.Value > 2) a12 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a12);
                if (TBatch.Value > 3) a13 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a13);
            }

            if (TRows.Value > 2)
            {
                LoadWeights<TSimd, TVector, TWeight>(w2 + c, out low, out high);
                a20 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a20);
                if (TBatch.Value > 1) a21 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a21);
                if (TBatch.Value > 2) a22 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a22);
                if (TBatch.Value > 3) a23 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a23);
            }

            if (TRows.Value > 3)
            {
                LoadWeights<TSimd, TVector, TWeight>(w3 + c, out low, out high);
                a30 = Dot<TSimd, TVector>(low, high, x0Low, x0High, a30);
                if (TBatch.Value > 1) a31 = Dot<TSimd, TVector>(low, high, x1Low, x1High, a31);
                if (TBatch.Value > 2) a32 = Dot<TSimd, TVector>(low, high, x2Low, x2High, a32);
                if (TBatch.Value > 3) a33 = Dot<TSimd, TVector>(low, high, x3Low, x3High, a33);
            }
        }

        var y0 = y + (nint)b * rows + row; // y[b, row]; the next input's outputs are `rows` further on
        Finish<TSimd, TVector, TWeight, TBatch>(w0, x0, y0, rows, cols, c, a00, a01, a02, a03);
        if (TRows.Value > 1 && row + 1 < rows) Finish<TSimd, TVector, TWeight, TBatch>(w1, x0, y0 + 1, rows, cols, c, a10, a11, a12, a13);
        if (TRows.Value > 2 && row + 2 < rows) Finish<TSimd, TVector, TWeight, TBatch>(w2, x0, y0 + 2, rows, cols, c, a20, a21, a22, a23);
        if (TRows.Value > 3 && row + 3 < rows) Finish<TSimd, TVector, TWeight, TBatch>(w3, x0, y0 + 3, rows, cols, c, a30, a31, a32, a33);
    }

    /// <summary>Writes one row's outputs: each accumulator's lanes plus the leftover columns from c on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TSimd, TVector, TWeight, TBatch>(
        TWeight* wRow, float* x0, float* y0, int rows, int cols, int c,
        TVector a0, TVector a1, TVector a2, TVector a3)
        where TSimd : ISimd<TVector>
        where TVector : struct
        where TWeight : unmanaged
        where TBatch : ICount
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
}
