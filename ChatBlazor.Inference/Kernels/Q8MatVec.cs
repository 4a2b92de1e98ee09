using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ChatBlazor.Inference.Kernels;

/// <summary>The integer dot-product instructions a <see cref="Q8MatVec"/> product runs on.</summary>
public enum Q8Path
{
    /// <summary><see cref="Vector{T}"/>: int8 widened to int16, multiplied, widened to int32 and added.</summary>
    Portable,

    /// <summary>AVX2 vpmaddubsw then vpmaddwd: 32 products per two instructions.</summary>
    Avx2,

    /// <summary>AVX-VNNI vpdpbusd on 256-bit vectors: 32 products in one instruction.</summary>
    AvxVnni,
}

/// <summary>
/// <c>y[b, r] = Σc x[b, c] · w[r, c]</c> with w in <see cref="Q8Weights"/>, for decoding batches of 1 to 16.
/// </summary>
/// <remarks>
/// <para>Each call first quantizes every input row to int8 per 32-column block by the weights' own rule, then each
/// (weight block, input block) pair is an exact integer dot product of 32 int8 × int8 terms, added into an F32
/// accumulator times the two blocks' scales. The integer part is exact on every path, so paths differ only by F32
/// summation order; the error against the F32 product on the dequantized weights comes only from rounding the
/// inputs (at most half an input scale per value).</para>
/// <para>The x86 instructions multiply an unsigned byte by a signed one, so the product x · w is taken as
/// |x| · (w · sign x): |x| ≤ 127 fits a byte and w · sign x stays in [−127, 127] because neither side is ever −128.
/// vpmaddubsw then adds pairs into int16 without saturating (2 · 127 · 127 = 32258 &lt; 32767). .NET 10 has no
/// 512-bit VNNI class, so the VNNI path uses AVX-VNNI's 256-bit vpdpbusd even on AVX-512 machines.</para>
/// <para>Rows go one at a time (a sequential read, which the hardware prefetcher follows best; at batch 1 the
/// product is bound by memory); inputs go in groups of up to 4 against each row while it is in L1. Rows are shared
/// out between <see cref="KernelThreads"/> in chunks, as <see cref="MatVec"/> does.</para>
/// </remarks>
public static unsafe class Q8MatVec
{
    private const int BlockSize = Q8Weights.BlockSize;

    // Rows are short (576 bytes in smol135), so the hardware prefetcher, which follows each of a row's three
    // streams (values, scales, sums) separately, keeps too few lines in flight: asking for the row about 4 KB
    // ahead took the step's 8-bit products from 25–28 GB/s to 32–38 GB/s (2 KB and 8 KB measured close; 14 KB worse).
    private const int PrefetchBytes = 4096;

    // As in MatVec: below this much weight per thread another thread costs more than it saves; chunks of about
    // 8 per thread, each between 64 KB and 1 MB.
    private const long MinWeightBytesPerThread = 64 * 1024;
    private const int ChunksPerThread = 8;
    private const long MinChunkBytes = 64 * 1024;
    private const long MaxChunkBytes = 1024 * 1024;

    private static readonly Q8Path _best =
        IsSupported(Q8Path.AvxVnni) ? Q8Path.AvxVnni
        : IsSupported(Q8Path.Avx2) ? Q8Path.Avx2
        : Q8Path.Portable;

    // The quantized inputs of the current call, per dispatching thread. Pinned, so workers may read them.
    [ThreadStatic] private static sbyte[]? _inputValues;
    [ThreadStatic] private static byte[]? _inputMagnitudes;
    [ThreadStatic] private static float[]? _inputScales;

    /// <summary>
    /// The fastest path this machine supports, or the one matching <see cref="MatVec.Path"/> where tests override
    /// it: AVX-512 runs AVX-VNNI (or AVX2 without it), AVX2 runs AVX2, portable runs portable.
    /// </summary>
    public static Q8Path Path => MatVec.PathOverride switch
    {
        null => _best,
        SimdPath.Avx512 => IsSupported(Q8Path.AvxVnni) ? Q8Path.AvxVnni : Q8Path.Avx2,
        SimdPath.Avx2 => Q8Path.Avx2,
        _ => Q8Path.Portable,
    };

    internal static bool IsSupported(Q8Path path) => path switch
    {
        Q8Path.AvxVnni => AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        Q8Path.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        Q8Path.Portable => true,
        _ => false,
    };

    /// <summary>
    /// y (batch × w.Rows, overwritten) = x (batch × w.Cols) · wᵀ, all row-major F32 but w. y must not overlap x.
    /// Runs on up to <see cref="KernelThreads.Count"/> threads.
    /// </summary>
    public static void Multiply(Q8Weights w, float* x, float* y, int batch = 1) =>
        Multiply(w, x, y, batch, Path, KernelThreads.Count);

    /// <summary>As the public overload with the path, the thread limit and (if not 0) the rows per work item chosen.</summary>
    internal static void Multiply(Q8Weights w, float* x, float* y, int batch, Q8Path path, int maxThreads, int chunkRows = 0)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (x == null || y == null)
            throw new ArgumentNullException(x == null ? nameof(x) : nameof(y));
        if (!IsSupported(path))
            throw new PlatformNotSupportedException($"This CPU cannot run the {path} kernels.");
        var (rows, cols) = (w.Rows, w.Cols);
        if (rows == 0)
            return;

        var blocks = cols / BlockSize;
        var inputs = batch * cols;
        if (_inputValues is null || _inputValues.Length < inputs || _inputScales!.Length < batch * blocks)
        {
            _inputValues = GC.AllocateUninitializedArray<sbyte>(inputs, pinned: true);
            _inputMagnitudes = GC.AllocateUninitializedArray<byte>(inputs, pinned: true);
            _inputScales = GC.AllocateUninitializedArray<float>(batch * blocks, pinned: true);
        }
        var values = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputValues));
        var magnitudes = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputMagnitudes!));
        var scales = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputScales));
        for (var b = 0; b < batch; b++)
            Q8Weights.QuantizeBlocks(x + (long)b * cols, cols, values + (long)b * cols, scales + b * blocks, magnitudes + (long)b * cols);
        if (path == Q8Path.AvxVnni)
        {
            // VNNI's unsigned operand is x + 128 instead (the byte's top bit flipped); see VnniDot.
            for (var i = 0; i + Vector256<byte>.Count <= inputs; i += Vector256<byte>.Count)
                (Vector256.Load((byte*)values + i) ^ Vector256.Create((byte)0x80)).Store(magnitudes + i);
            for (var i = inputs / Vector256<byte>.Count * Vector256<byte>.Count; i < inputs; i++)
                magnitudes[i] = (byte)(((byte)values[i]) ^ 0x80);
        }

        var rowBytes = (long)cols + blocks * sizeof(float);
        var threads = (int)Math.Clamp(rows * rowBytes / MinWeightBytesPerThread, 1, maxThreads);
        if (chunkRows <= 0)
        {
            var chunkBytes = Math.Clamp(rows * rowBytes / (threads * ChunksPerThread), MinChunkBytes, MaxChunkBytes);
            chunkRows = threads == 1 ? rows : (int)Math.Max(1, chunkBytes / rowBytes);
        }

        var job = new Job(w.Values, w.Scales, w.Sums, values, magnitudes, scales, y, rows, cols, batch, path, chunkRows);
        KernelThreads.For((int)(((long)rows + chunkRows - 1) / chunkRows), &RunChunk, &job, threads);
    }

    // Lives on the dispatching thread's stack for the duration of KernelThreads.For.
    private readonly struct Job(
        sbyte* w, float* wScales, short* wSums, sbyte* x, byte* xMagnitudes, float* xScales, float* y,
        int rows, int cols, int batch, Q8Path path, int chunkRows)
    {
        public readonly sbyte* W = w, X = x;
        public readonly short* WSums = wSums;
        /// <summary>The unsigned operand: |x| for the sign trick, x + 128 on the VNNI path.</summary>
        public readonly byte* XMagnitudes = xMagnitudes;
        public readonly float* WScales = wScales, XScales = xScales, Y = y;
        public readonly int Rows = rows, Cols = cols, Batch = batch, ChunkRows = chunkRows;
        public readonly Q8Path Path = path;
    }

    private static void RunChunk(void* state, int chunk)
    {
        var job = (Job*)state;
        var first = (int)Math.Min((long)chunk * job->ChunkRows, job->Rows);
        var end = (int)Math.Min((long)first + job->ChunkRows, job->Rows);
        switch (job->Path)
        {
            case Q8Path.AvxVnni:
                Rows<VnniDot>(job, first, end);
                break;
            case Q8Path.Avx2:
                Rows<Avx2Dot>(job, first, end);
                break;
            default:
                Rows<PortableDot>(job, first, end);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TDot>(Job* job, int first, int end) where TDot : IDot
    {
        var cols = job->Cols;
        var blocks = cols / BlockSize;
        var ahead = (PrefetchBytes + cols - 1) / cols;
        for (var row = first; row < end; row++)
        {
            if (Sse.IsSupported && row + ahead < end)
            {
                var values = (byte*)(job->W + (nint)(row + ahead) * cols);
                for (var offset = 0; offset < cols; offset += 64)
                    Sse.Prefetch0(values + offset);
                Sse.Prefetch0(job->WScales + (nint)(row + ahead) * blocks);
                Sse.Prefetch0(job->WSums + (nint)(row + ahead) * blocks);
            }
            for (var b = 0; b < job->Batch;)
            {
                var left = job->Batch - b;
                if (left >= 4)
                    b += TDot.Row<Four>(job, row, b);
                else if (left == 3)
                    b += TDot.Row<Three>(job, row, b);
                else if (left == 2)
                    b += TDot.Row<Two>(job, row, b);
                else
                    b += TDot.Row<One>(job, row, b);
            }
        }
    }

    /// <summary>One row against <c>TBatch</c> inputs from input b on; returns how many it did.</summary>
    private interface IDot
    {
        static abstract int Row<TBatch>(Job* job, int row, int b) where TBatch : ICount;
    }

    /// <summary>The 256-bit paths: they differ only in how one block's 32 products become 8 int32 sums.</summary>
    private interface IBlockDot
    {
        /// <summary>
        /// True: the unsigned operand is x + 128 and the weights go in as they are, so one block's sum comes out
        /// 128 · Σw too high, which the caller takes off. False: |x| against w · sign x.
        /// </summary>
        static abstract bool Offset { get; }

        static abstract Vector256<int> Dot(Vector256<byte> unsignedX, Vector256<sbyte> w);
    }

    /// <summary>
    /// vpdpbusd takes the weights as they are and x + 128 (0..254, a byte): no per-input sign step and no separate
    /// magnitudes, 2 loads and 1 instruction per block and input. 255 · 127 · 4 fits the int32 lanes; the offset,
    /// 128 · Σw, comes from each block's sum stored beside the weights (<see cref="Q8Weights.Sums"/>).
    /// </summary>
    private readonly struct VnniDot : IDot, IBlockDot
    {
        public static bool Offset => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> unsignedX, Vector256<sbyte> w) =>
            AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, unsignedX, w);

        public static int Row<TBatch>(Job* job, int row, int b) where TBatch : ICount => Row256<VnniDot, TBatch>(job, row, b);
    }

    private readonly struct Avx2Dot : IDot, IBlockDot
    {
        // vpmaddubsw adds pairs into int16 with saturation: (x + 128) · w would overflow it, |x| · (w · sign x) cannot.
        public static bool Offset => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> xMagnitudes, Vector256<sbyte> signedW) =>
            Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(xMagnitudes, signedW), Vector256<short>.One);

        public static int Row<TBatch>(Job* job, int row, int b) where TBatch : ICount => Row256<Avx2Dot, TBatch>(job, row, b);
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Row256<TDot, TBatch>(Job* job, int row, int b)
        where TDot : IBlockDot
        where TBatch : ICount
    {
        var (rows, cols) = (job->Rows, job->Cols);
        var blocks = cols / BlockSize;
        var w = job->W + (nint)row * cols;
        var wScales = job->WScales + (nint)row * blocks;
        var wSums = job->WSums + (nint)row * blocks;
        var offset = (nint)b * cols;
        // Input k's values, magnitudes and scales: x0 + k·cols, m0 + k·cols, s0 + k·blocks.
        sbyte* x0 = job->X + offset, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        byte* m0 = job->XMagnitudes + offset, m1 = m0 + cols, m2 = m1 + cols, m3 = m2 + cols;
        float* s0 = job->XScales + (nint)b * blocks, s1 = s0 + blocks, s2 = s1 + blocks, s3 = s2 + blocks;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var block = 0;
        for (; block + 8 <= blocks; block += 8)
        {
            var c = block * BlockSize;
            var scales = Vector256.Load(wScales + block);
            // 128 · Σw per block, what the VNNI path's sums come out too high by.
            var excess = TDot.Offset ? Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(wSums + block), 7) : default;
            a0 = Add8<TDot>(w + c, scales, excess, x0 + c, m0 + c, s0 + block, a0);
            if (TBatch.Value > 1) a1 = Add8<TDot>(w + c, scales, excess, x1 + c, m1 + c, s1 + block, a1);
            if (TBatch.Value > 2) a2 = Add8<TDot>(w + c, scales, excess, x2 + c, m2 + c, s2 + block, a2);
            if (TBatch.Value > 3) a3 = Add8<TDot>(w + c, scales, excess, x3 + c, m3 + c, s3 + block, a3);
        }
        for (; block < blocks; block++)
        {
            var c = block * BlockSize;
            var weights = Vector256.Load(w + c);
            var scale = wScales[block];
            var excess = TDot.Offset ? wSums[block] << 7 : 0;
            a0 = Add<TDot>(weights, scale, excess, x0 + c, m0 + c, s0[block], a0);
            if (TBatch.Value > 1) a1 = Add<TDot>(weights, scale, excess, x1 + c, m1 + c, s1[block], a1);
            if (TBatch.Value > 2) a2 = Add<TDot>(weights, scale, excess, x2 + c, m2 + c, s2[block], a2);
            if (TBatch.Value > 3) a3 = Add<TDot>(weights, scale, excess, x3 + c, m3 + c, s3[block], a3);
        }

        var y = job->Y + (nint)b * rows + row;
        y[0] = Vector256.Sum(a0);
        if (TBatch.Value > 1) y[rows] = Vector256.Sum(a1);
        if (TBatch.Value > 2) y[2 * rows] = Vector256.Sum(a2);
        if (TBatch.Value > 3) y[3 * rows] = Vector256.Sum(a3);
        return TBatch.Value;
    }

    /// <summary>
    /// sum + (wScale · xScale) · (exact integer dot) for 8 consecutive blocks, lane k for block k. Scaling one block
    /// at a time costs a convert, a scalar product, a broadcast and a multiply-add each; here the 8 blocks' 8-lane
    /// sums are folded into one vector (6 horizontal adds, 2 lane swaps, 1 add) and scaled by one multiply and one
    /// multiply-add: about 15 instructions for 8 blocks instead of 40, the difference between bound by instructions
    /// and bound by memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Add8<TDot>(sbyte* w, Vector256<float> wScales, Vector256<int> excess, sbyte* x, byte* magnitudes, float* xScales, Vector256<float> sum)
        where TDot : IBlockDot
    {
        var d0 = BlockDot<TDot>(w, x, magnitudes, 0);
        var d1 = BlockDot<TDot>(w, x, magnitudes, 1);
        var d2 = BlockDot<TDot>(w, x, magnitudes, 2);
        var d3 = BlockDot<TDot>(w, x, magnitudes, 3);
        var d4 = BlockDot<TDot>(w, x, magnitudes, 4);
        var d5 = BlockDot<TDot>(w, x, magnitudes, 5);
        var d6 = BlockDot<TDot>(w, x, magnitudes, 6);
        var d7 = BlockDot<TDot>(w, x, magnitudes, 7);
        // Within each 128-bit half, hadd(hadd(d0, d1), hadd(d2, d3)) holds [d0, d1, d2, d3] summed over that half's
        // four lanes; adding the two halves gives each block's whole sum.
        var first = Avx2.HorizontalAdd(Avx2.HorizontalAdd(d0, d1), Avx2.HorizontalAdd(d2, d3));
        var second = Avx2.HorizontalAdd(Avx2.HorizontalAdd(d4, d5), Avx2.HorizontalAdd(d6, d7));
        var dots = Avx2.Permute2x128(first, second, 0x20) + Avx2.Permute2x128(first, second, 0x31);
        if (TDot.Offset)
            dots -= excess;
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(dots), wScales * Vector256.Load(xScales), sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockDot<TDot>(sbyte* w, sbyte* x, byte* unsignedX, int block) where TDot : IBlockDot
    {
        var weights = Vector256.Load(w + block * BlockSize);
        return TDot.Dot(Vector256.Load(unsignedX + block * BlockSize), TDot.Offset ? weights : Avx2.Sign(weights, Vector256.Load(x + block * BlockSize)));
    }

    /// <summary>sum + (wScale · xScale) · (the block's exact integer dot product), in 8 lanes (with the offset, in lane 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Add<TDot>(Vector256<sbyte> weights, float wScale, int excess, sbyte* x, byte* unsignedX, float xScale, Vector256<float> sum)
        where TDot : IBlockDot
    {
        var dot = TDot.Dot(Vector256.Load(unsignedX), TDot.Offset ? weights : Avx2.Sign(weights, Vector256.Load(x)));
        // With the offset each lane is ~128 times the true terms: sum as integers, exactly, before any rounding.
        if (TDot.Offset)
            dot = Vector256.CreateScalar(Vector256.Sum(dot) - excess);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), Vector256.Create(wScale * xScale), sum);
    }

    private readonly struct PortableDot : IDot
    {
        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static int Row<TBatch>(Job* job, int row, int b) where TBatch : ICount
        {
            var (rows, cols) = (job->Rows, job->Cols);
            var blocks = cols / BlockSize;
            var w = job->W + (nint)row * cols;
            var wScales = job->WScales + (nint)row * blocks;
            for (var k = 0; k < TBatch.Value; k++)
            {
                var x = job->X + (nint)(b + k) * cols;
                var xScales = job->XScales + (nint)(b + k) * blocks;
                var sum = Vector<float>.Zero;
                for (var block = 0; block < blocks; block++)
                {
                    var c = block * BlockSize;
                    sum += Vector.ConvertToSingle(BlockDot(w + c, x + c)) * (wScales[block] * xScales[block]);
                }
                job->Y[(nint)(b + k) * rows + row] = Vector.Sum(sum);
            }
            return TBatch.Value;
        }

        /// <summary>One block's 32 products, summed into the lanes of a Vector&lt;int&gt;: int8 · int8 fits int16.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<int> BlockDot(sbyte* w, sbyte* x)
        {
            var sum = Vector<int>.Zero;
            if (Vector<sbyte>.Count > BlockSize)
            {
                // A vector wider than a block (Vector<T> set to 512 bits): one lane carries the whole dot.
                var dot = 0;
                for (var i = 0; i < BlockSize; i++)
                    dot += w[i] * x[i];
                return sum.WithElement(0, dot);
            }
            for (var i = 0; i < BlockSize; i += Vector<sbyte>.Count)
            {
                Vector.Widen(Vector.Load(w + i), out var wLow, out var wHigh);
                Vector.Widen(Vector.Load(x + i), out var xLow, out var xHigh);
                Vector.Widen(wLow * xLow, out var p0, out var p1);
                Vector.Widen(wHigh * xHigh, out var p2, out var p3);
                sum += p0 + p1 + (p2 + p3);
            }
            return sum;
        }
    }
}
