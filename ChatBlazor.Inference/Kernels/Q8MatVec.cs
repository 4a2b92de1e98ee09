using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ChatBlazor.Inference.Kernels;

/// <summary>The integer dot-product instructions a <see cref="Q8MatVec"/> product runs on.</summary>
public enum Q8Path
{
    /// <summary>Plain integer arithmetic, for CPUs without AVX2: correct everywhere, several times slower.</summary>
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
/// <para>The weights are interleaved 8 rows at a time (<see cref="Q8Weights"/>): a 256-bit vector holds 4 values of
/// each of 8 rows, and the input's 4 matching values are broadcast to every lane, so one dot-product instruction
/// adds 4 terms to each of 8 rows' sums. A block's 8 steps leave the 8 rows' exact block sums in the 8 lanes, which
/// one convert and one multiply-add by the 8 scales take into the rows' F32 sums: no horizontal additions at all,
/// and one store of 8 outputs per group.</para>
/// <para>VNNI's vpdpbusd multiplies unsigned bytes by signed ones: the weights are stored as q + 128, so each lane
/// comes out 128 · Σx too high, a per-input, per-block number taken off once. AVX2's vpmaddubsw would saturate on
/// that, so the AVX2 path takes |x| · (q · sign x) instead: |x| ≤ 127 fits a byte, q · sign x stays in [−127, 127]
/// (neither is ever −128) and pairs add into int16 without saturating (2 · 127 · 127 = 32258 &lt; 32767). .NET 10
/// has no 512-bit VNNI class, so the VNNI path uses AVX-VNNI's 256-bit form even on AVX-512 machines.</para>
/// <para>Inputs go in groups of up to 4 against each group's weights while they are in registers. Row groups are
/// shared out between <see cref="KernelThreads"/> in chunks, as <see cref="MatVec"/> shares rows.</para>
/// </remarks>
public static unsafe class Q8MatVec
{
    private const int BlockSize = Q8Weights.BlockSize;
    private const int GroupRows = Q8Weights.GroupRows;
    private const int Steps = BlockSize / 4; // 4 values of each row per 32-byte step

    // A row group's blocks are contiguous, but decoding starts a new matrix every few tens of µs and the hardware
    // prefetcher needs a while to ramp up on each: asking for the weights about 4 KB ahead took the step's 8-bit
    // products from 25–28 GB/s to 32–38 GB/s (2 KB and 8 KB measured close; 14 KB worse).
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
    [ThreadStatic] private static int[]? _inputExcess;

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

    /// <summary>As the public overload with the path, the thread limit and (if not 0) the row groups per work item chosen.</summary>
    internal static void Multiply(Q8Weights w, float* x, float* y, int batch, Q8Path path, int maxThreads, int chunkGroups = 0)
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
            _inputExcess = GC.AllocateUninitializedArray<int>(batch * blocks, pinned: true);
        }
        var values = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputValues));
        var magnitudes = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputMagnitudes!));
        var scales = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputScales));
        var excess = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputExcess!));
        for (var b = 0; b < batch; b++)
            Q8Weights.QuantizeBlocks(x + (long)b * cols, cols, values + (long)b * cols, scales + b * blocks, magnitudes + (long)b * cols);
        for (var i = 0; i < batch * blocks; i++)
        {
            // 128 · Σx of each input block: what the VNNI path's sums over the stored q + 128 come out too high by.
            var sum = 0;
            for (var k = 0; k < BlockSize; k++)
                sum += values[(long)i * BlockSize + k];
            excess[i] = sum << 7;
        }

        var groups = w.Groups;
        var groupBytes = (long)GroupRows * (cols + blocks * sizeof(float));
        var threads = (int)Math.Clamp(groups * groupBytes / MinWeightBytesPerThread, 1, maxThreads);
        if (chunkGroups <= 0)
        {
            var chunkBytes = Math.Clamp(groups * groupBytes / (threads * ChunksPerThread), MinChunkBytes, MaxChunkBytes);
            chunkGroups = threads == 1 ? groups : (int)Math.Max(1, chunkBytes / groupBytes);
        }

        var job = new Job(w.Values, w.Scales, values, magnitudes, scales, excess, y, rows, cols, batch, path, chunkGroups);
        KernelThreads.For((int)(((long)groups + chunkGroups - 1) / chunkGroups), &RunChunk, &job, threads);
    }

    // Lives on the dispatching thread's stack for the duration of KernelThreads.For.
    private readonly struct Job(
        byte* w, float* wScales, sbyte* x, byte* xMagnitudes, float* xScales, int* xExcess, float* y,
        int rows, int cols, int batch, Q8Path path, int chunkGroups)
    {
        public readonly byte* W = w, XMagnitudes = xMagnitudes;
        public readonly sbyte* X = x;
        public readonly float* WScales = wScales, XScales = xScales, Y = y;
        public readonly int* XExcess = xExcess;
        public readonly int Rows = rows, Cols = cols, Batch = batch, ChunkGroups = chunkGroups;
        public readonly Q8Path Path = path;
    }

    private static void RunChunk(void* state, int chunk)
    {
        var job = (Job*)state;
        var groups = (job->Rows + GroupRows - 1) / GroupRows;
        var first = (int)Math.Min((long)chunk * job->ChunkGroups, groups);
        var end = (int)Math.Min((long)first + job->ChunkGroups, groups);
        switch (job->Path)
        {
            case Q8Path.AvxVnni:
                Groups<VnniDot>(job, first, end);
                break;
            case Q8Path.Avx2:
                Groups<Avx2Dot>(job, first, end);
                break;
            default:
                Groups<PortableDot>(job, first, end);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Groups<TDot>(Job* job, int first, int end) where TDot : IDot
    {
        for (var group = first; group < end; group++)
            for (var b = 0; b < job->Batch;)
            {
                var left = job->Batch - b;
                if (left >= 4)
                    b += TDot.Group<Four>(job, group, b);
                else if (left == 3)
                    b += TDot.Group<Three>(job, group, b);
                else if (left == 2)
                    b += TDot.Group<Two>(job, group, b);
                else
                    b += TDot.Group<One>(job, group, b);
            }
    }

    /// <summary>One row group against <c>TBatch</c> inputs from input b on; returns how many it did.</summary>
    private interface IDot
    {
        static abstract int Group<TBatch>(Job* job, int group, int b) where TBatch : ICount;
    }

    /// <summary>The 256-bit paths differ only in how one step's 32 products are added into the 8 lanes.</summary>
    private interface IStepDot
    {
        /// <summary>
        /// sums + the step's products: lane l gets Σi w[l, i] · x[i] over the 4 values, from the stored weights (q + 128)
        /// and the input's 4 values as one int, their magnitudes likewise.
        /// </summary>
        static abstract Vector256<int> Add(Vector256<int> sums, Vector256<byte> weights, int x, int magnitudes);

        /// <summary>True when the sums come out 128 · Σx too high (the stored offset left in).</summary>
        static abstract bool Offset { get; }
    }

    private readonly struct VnniDot : IDot, IStepDot
    {
        public static bool Offset => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> weights, int x, int magnitudes) =>
            AvxVnni.MultiplyWideningAndAdd(sums, weights, Vector256.Create(x).AsSByte());

        public static int Group<TBatch>(Job* job, int group, int b) where TBatch : ICount => Group256<VnniDot, TBatch>(job, group, b);
    }

    private readonly struct Avx2Dot : IDot, IStepDot
    {
        public static bool Offset => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> weights, int x, int magnitudes)
        {
            var signed = Avx2.Sign((weights ^ Vector256.Create((byte)0x80)).AsSByte(), Vector256.Create(x).AsSByte());
            var pairs = Avx2.MultiplyAddAdjacent(Vector256.Create(magnitudes).AsByte(), signed);
            return sums + Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One);
        }

        public static int Group<TBatch>(Job* job, int group, int b) where TBatch : ICount => Group256<Avx2Dot, TBatch>(job, group, b);
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Group256<TDot, TBatch>(Job* job, int group, int b)
        where TDot : IStepDot
        where TBatch : ICount
    {
        var (rows, cols) = (job->Rows, job->Cols);
        var blocks = cols / BlockSize;
        var w = job->W + (nint)group * blocks * Q8Weights.GroupBlockBytes;
        var wScales = job->WScales + (nint)group * blocks * GroupRows;
        var end = job->W + (nint)(rows + GroupRows - 1) / GroupRows * blocks * Q8Weights.GroupBlockBytes;
        // Input k's values, magnitudes, scales and offsets: x0 + k·cols, m0 + k·cols, s0 + k·blocks, e0 + k·blocks.
        var offset = (nint)b * cols;
        sbyte* x0 = job->X + offset, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        byte* m0 = job->XMagnitudes + offset, m1 = m0 + cols, m2 = m1 + cols, m3 = m2 + cols;
        float* s0 = job->XScales + (nint)b * blocks, s1 = s0 + blocks, s2 = s1 + blocks, s3 = s2 + blocks;
        int* e0 = job->XExcess + (nint)b * blocks, e1 = e0 + blocks, e2 = e1 + blocks, e3 = e2 + blocks;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (var block = 0; block < blocks; block++, w += Q8Weights.GroupBlockBytes)
        {
            if (Sse.IsSupported && w + PrefetchBytes < end)
                for (var line = 0; line < Q8Weights.GroupBlockBytes; line += 64)
                    Sse.Prefetch0(w + PrefetchBytes + line);
            var c = block * BlockSize;
            // Two sums per input for one input alone, so consecutive steps do not wait on each other.
            Vector256<int> d0 = default, d0b = default, d1 = default, d2 = default, d3 = default;
            for (var step = 0; step < Steps; step++)
            {
                var weights = Vector256.Load(w + step * 32);
                var i = c + step * 4;
                if (TBatch.Value == 1 && (step & 1) == 1)
                    d0b = TDot.Add(d0b, weights, *(int*)(x0 + i), *(int*)(m0 + i));
                else
                    d0 = TDot.Add(d0, weights, *(int*)(x0 + i), *(int*)(m0 + i));
                if (TBatch.Value > 1) d1 = TDot.Add(d1, weights, *(int*)(x1 + i), *(int*)(m1 + i));
                if (TBatch.Value > 2) d2 = TDot.Add(d2, weights, *(int*)(x2 + i), *(int*)(m2 + i));
                if (TBatch.Value > 3) d3 = TDot.Add(d3, weights, *(int*)(x3 + i), *(int*)(m3 + i));
            }
            var scales = Vector256.Load(wScales + block * GroupRows);
            if (TBatch.Value == 1) d0 += d0b;
            a0 = Scale<TDot>(d0, scales, s0[block], e0[block], a0);
            if (TBatch.Value > 1) a1 = Scale<TDot>(d1, scales, s1[block], e1[block], a1);
            if (TBatch.Value > 2) a2 = Scale<TDot>(d2, scales, s2[block], e2[block], a2);
            if (TBatch.Value > 3) a3 = Scale<TDot>(d3, scales, s3[block], e3[block], a3);
        }

        var first = group * GroupRows;
        var y = job->Y + (nint)b * rows + first;
        Store(a0, y, rows - first);
        if (TBatch.Value > 1) Store(a1, y + rows, rows - first);
        if (TBatch.Value > 2) Store(a2, y + 2 * rows, rows - first);
        if (TBatch.Value > 3) Store(a3, y + 3 * rows, rows - first);
        return TBatch.Value;
    }

    /// <summary>sum + (the 8 rows' exact block sums, less the offset) · their scales · the input block's scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale<TDot>(Vector256<int> dots, Vector256<float> wScales, float xScale, int excess, Vector256<float> sum)
        where TDot : IStepDot
    {
        if (TDot.Offset)
            dots -= Vector256.Create(excess);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(dots), wScales * Vector256.Create(xScale), sum);
    }

    /// <summary>A group's 8 outputs, or as many as there are rows left in a padded last group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> outputs, float* y, int left)
    {
        if (left >= GroupRows)
        {
            outputs.Store(y);
            return;
        }
        for (var l = 0; l < left; l++)
            y[l] = outputs.GetElement(l);
    }

    private readonly struct PortableDot : IDot
    {
        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static int Group<TBatch>(Job* job, int group, int b) where TBatch : ICount
        {
            var (rows, cols) = (job->Rows, job->Cols);
            var blocks = cols / BlockSize;
            var sums = stackalloc float[GroupRows];
            for (var k = 0; k < TBatch.Value; k++)
            {
                var x = job->X + (nint)(b + k) * cols;
                var xScales = job->XScales + (nint)(b + k) * blocks;
                new Span<float>(sums, GroupRows).Clear();
                for (var block = 0; block < blocks; block++)
                {
                    var chunk = job->W + ((nint)group * blocks + block) * Q8Weights.GroupBlockBytes;
                    var scales = job->WScales + ((nint)group * blocks + block) * GroupRows;
                    for (var lane = 0; lane < GroupRows; lane++)
                    {
                        var dot = 0;
                        for (var step = 0; step < Steps; step++)
                        {
                            var w = chunk + step * GroupRows * 4 + lane * 4;
                            var xs = x + block * BlockSize + step * 4;
                            dot += (w[0] - 128) * xs[0] + (w[1] - 128) * xs[1] + (w[2] - 128) * xs[2] + (w[3] - 128) * xs[3];
                        }
                        sums[lane] += dot * (scales[lane] * xScales[block]);
                    }
                }
                var first = group * GroupRows;
                for (var lane = 0; lane < Math.Min(GroupRows, rows - first); lane++)
                    job->Y[(nint)(b + k) * rows + first + lane] = sums[lane];
            }
            return TBatch.Value;
        }
    }
}
