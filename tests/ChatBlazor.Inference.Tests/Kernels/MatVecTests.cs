using System.Runtime.InteropServices;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using TorchSharp;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>
/// MatVec against torch.nn.functional.linear on the same data, on every instruction set this CPU has
/// (forced through the internal entry point, so the AVX2 and portable fallbacks run on an AVX-512
/// machine too).
/// </summary>
public unsafe partial class MatVecTests
{
    // Shapes chosen to hit every edge of the kernels: columns shorter than one vector step (1, 7, 15),
    // a leftover after whole steps (17, 33, 1000), exact steps (576, 1536); row counts that leave 1–3
    // rows of the last 4-row tile (1, 3, 5, 6, 7) or none (49152); batch sizes for the row-by-row
    // kernel (1, 2) and for each grouping of inputs in 4-row tiles (3, 5 = 4 + 1, 7 = 4 + 3, 16 = 4 × 4).
    private static readonly (int Rows, int Cols, int Batch)[] _shapes =
    [
        (1, 1, 1),
        (3, 7, 2),
        (1, 15, 5),
        (5, 17, 16),
        (6, 33, 3),
        (7, 1000, 7),
        (3, 576, 1),
        (5, 1000, 2),
        (1536, 576, 2),
        (576, 1536, 16),
        (49152, 576, 1),
        (49152, 576, 5),
    ];

    public static TheoryData<SimdPath, int, int, int> PathsAndShapes()
    {
        var data = new TheoryData<SimdPath, int, int, int>();
        foreach (var path in Enum.GetValues<SimdPath>().Where(MatVec.IsSupported))
            foreach (var (rows, cols, batch) in _shapes)
                data.Add(path, rows, cols, batch);
        return data;
    }

    public static TheoryData<SimdPath> Paths() => new(Enum.GetValues<SimdPath>().Where(MatVec.IsSupported));

    [Theory]
    [MemberData(nameof(PathsAndShapes))]
    public void F32MatchesTorchLinear(SimdPath path, int rows, int cols, int batch)
    {
        using var scope = torch.NewDisposeScope();
        var (w, x) = RandomProblem(rows, cols, batch);

        var y = Multiply(w, x, path, KernelThreads.Count);

        AssertMatchesTorch(w, x, y);
    }

    [Theory]
    [MemberData(nameof(PathsAndShapes))]
    public void Bf16MatchesTorchLinearOnTheWeightsWidenedToF32(SimdPath path, int rows, int cols, int batch)
    {
        using var scope = torch.NewDisposeScope();
        var (w, x) = RandomProblem(rows, cols, batch);
        var wBf16 = w.to(torch.bfloat16);

        var y = Multiply(wBf16, x, path, KernelThreads.Count);

        AssertMatchesTorch(wBf16.to(torch.float32), x, y);
    }

    [Theory]
    [InlineData(1001, 3, 1)]    // 251 one-tile items (the last 1 row) over 3 threads
    [InlineData(1001, 2, 7)]    // 35 items of 7 tiles and a last of 6
    [InlineData(9, 8, 1)]       // more threads than items
    public void RowsSharedOutInAwkwardChunksAreEachComputedOnce(int rows, int threads, int chunkTiles)
    {
        using var scope = torch.NewDisposeScope();
        var (w, x) = RandomProblem(rows, cols: 40, batch: 3);
        var wBf16 = w.to(torch.bfloat16);

        foreach (var path in Enum.GetValues<SimdPath>().Where(MatVec.IsSupported))
        {
            AssertMatchesTorch(w, x, Multiply(w, x, path, threads, chunkTiles));
            AssertMatchesTorch(wBf16.to(torch.float32), x, Multiply(wBf16, x, path, threads, chunkTiles));
        }
    }

    [Fact]
    public void PublicEntryPointsMatchTorchLinear()
    {
        using var scope = torch.NewDisposeScope();
        var (w, x) = RandomProblem(rows: 1536, cols: 576, batch: 3);
        var wBf16 = w.to(torch.bfloat16);
        var y = torch.empty(3, 1536);
        var yBf16 = torch.empty(3, 1536);

        MatVec.F32(TensorMemory.Pointer<float>(w), TensorMemory.Pointer<float>(x), TensorMemory.Pointer<float>(y), 1536, 576, 3);
        MatVec.Bf16(TensorMemory.Pointer<ushort>(wBf16), TensorMemory.Pointer<float>(x), TensorMemory.Pointer<float>(yBf16), 1536, 576, 3);

        AssertMatchesTorch(w, x, y.data<float>().ToArray());
        AssertMatchesTorch(wBf16.to(torch.float32), x, yBf16.data<float>().ToArray());
    }

    [Fact]
    public void BatchDefaultsToOneVector()
    {
        using var scope = torch.NewDisposeScope();
        var (w, x) = RandomProblem(rows: 10, cols: 64, batch: 1);
        var y = torch.empty(1, 10);

        MatVec.F32(TensorMemory.Pointer<float>(w), TensorMemory.Pointer<float>(x), TensorMemory.Pointer<float>(y), 10, 64);

        AssertMatchesTorch(w, x, y.data<float>().ToArray());
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ZeroColumnsGiveZeroOutputs(SimdPath path)
    {
        float w = 0, x = 0;
        var y = new[] { float.NaN, float.NaN, float.NaN };

        fixed (float* output = y)
            MatVec.Multiply(&w, isBf16: false, &x, output, rows: 3, cols: 0, batch: 1, path, maxThreads: 2);

        Assert.Equal([0f, 0f, 0f], y);
    }

    [Fact]
    public void InvalidArgumentsAreRejectedBeforeAnyMemoryIsTouched()
    {
        float one = 1, zero = 0;
        float* w = &one, x = &one, y = &zero;

        Assert.Throws<ArgumentOutOfRangeException>(() => MatVec.F32(w, x, y, 1, 1, batch: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatVec.F32(w, x, y, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatVec.F32(w, x, y, 1, -1));
        Assert.Throws<ArgumentNullException>(() => MatVec.F32(null, x, y, 1, 1));
        Assert.Throws<ArgumentNullException>(() => MatVec.Bf16((ushort*)w, x, null, 1, 1));
        Assert.Equal(0f, zero);
    }

    [Fact]
    public void ThePublicPathIsTheWidestThisCpuSupports()
    {
        var widest = Enum.GetValues<SimdPath>().Where(MatVec.IsSupported).Max();

        Assert.Equal(widest, MatVec.Path);
    }

    private static (torch.Tensor W, torch.Tensor X) RandomProblem(int rows, int cols, int batch)
    {
        // Seeded by the shape (HashCode is randomised per process): a failure reproduces.
        var generator = new torch.Generator((ulong)(rows * 1_000_003L + cols * 1_009L + batch));
        var w = torch.randn([rows, cols], generator: generator);
        var x = torch.randn([batch, cols], generator: generator);
        return (w, x);
    }

    /// <summary>
    /// Runs the kernel on copies of w and x that end against an unmapped page and start after NaN
    /// sentinels at odd addresses: unaligned loads are exercised, a read past the end crashes, a read
    /// before the start poisons the result, and a write outside y shows.
    /// </summary>
    private static float[] Multiply(torch.Tensor w, torch.Tensor x, SimdPath path, int threads, int chunkTiles = 0)
    {
        var (rows, cols) = ((int)w.shape[0], (int)w.shape[1]);
        var batch = (int)x.shape[0];
        var isBf16 = w.dtype == torch.bfloat16;

        using var f32Weights = isBf16 ? null : PaddedCopy(w, float.NaN);
        using var bf16Weights = isBf16 ? PaddedCopy(w, (ushort)0x7FC0) : null; // a BF16 NaN
        using var inputs = PaddedCopy(x, float.NaN);
        using var outputs = new Padded<float>(batch * rows, -12345f);
        void* weights = isBf16 ? bf16Weights!.Data : f32Weights!.Data;

        MatVec.Multiply(weights, isBf16, inputs.Data, outputs.Data, rows, cols, batch, path, threads, chunkTiles);

        Assert.True(outputs.PaddingIntact(), "the kernel wrote before the start of y");
        return outputs.ToArray();
    }

    private static Padded<T> PaddedCopy<T>(torch.Tensor tensor, T padding) where T : unmanaged
    {
        var copy = new Padded<T>((int)tensor.numel(), padding);
        new ReadOnlySpan<T>(TensorMemory.Pointer<T>(tensor), (int)tensor.numel()).CopyTo(copy.Span);
        return copy;
    }

    /// <summary>
    /// Error bound for F32 sums of n products in any order: a few units of roundoff of Σ|w·x| (the
    /// size of the terms, which is what summation-order differences scale with, unlike y itself when
    /// terms cancel). 1e-5 is ~80 F32 epsilons; wrong indexing or a dropped term is off by O(1).
    /// </summary>
    private static void AssertMatchesTorch(torch.Tensor w, torch.Tensor x, float[] actual)
    {
        using var scope = torch.NewDisposeScope();
        var expected = torch.nn.functional.linear(x, w).data<float>().ToArray();
        var magnitude = torch.nn.functional.linear(x.abs(), w.abs()).data<float>().ToArray();

        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = 1e-5f * magnitude[i] + 1e-30f;
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
                Assert.Fail($"y[{i / w.shape[0]}, {i % w.shape[0]}] = {actual[i]}, torch says {expected[i]} (tolerance {tolerance})");
        }
    }

    /// <summary>
    /// Native memory laid out as [sentinels][data][unmapped page]: a read or write past the end faults at
    /// once (as it would on weights memory-mapped from a file), one before the start hits the sentinels.
    /// </summary>
    private sealed class Padded<T> : IDisposable where T : unmanaged
    {
        // An odd number of elements: with the data flush against a page end, an odd length puts its start
        // off any vector alignment, which exercises unaligned loads.
        private const int Pad = 37;
        private static readonly nuint _pageSize = (nuint)Environment.SystemPageSize;
        private readonly byte* _mapping;
        private readonly nuint _mappingBytes;
        private readonly int _length;
        private readonly T _padding;

        public Padded(int length, T padding)
        {
            _length = length;
            _padding = padding;
            var bytes = (nuint)((length + Pad) * sizeof(T));
            var dataPages = (bytes + _pageSize - 1) / _pageSize;
            _mappingBytes = (dataPages + 1) * _pageSize;
            if (OperatingSystem.IsLinux())
            {
                _mapping = (byte*)Libc.Mmap(null, _mappingBytes, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
                Assert.True(_mapping != (byte*)-1, "mmap failed");
                Assert.Equal(0, Libc.Mprotect(_mapping + dataPages * _pageSize, _pageSize, Libc.ProtNone));
            }
            else
            {
                // No guard page elsewhere; the sentinels still catch most strays.
                _mapping = (byte*)NativeMemory.AllocZeroed(_mappingBytes);
            }

            Start = (T*)(_mapping + dataPages * _pageSize - bytes);
            new Span<T>(Start, length + Pad).Fill(padding);
        }

        public T* Data => Start + Pad;

        public Span<T> Span => new(Data, _length);

        private T* Start { get; }

        public T[] ToArray() => Span.ToArray();

        public bool PaddingIntact()
        {
            var comparer = EqualityComparer<T>.Default;
            for (var i = 0; i < Pad; i++)
                if (!comparer.Equals(Start[i], _padding))
                    return false;
            return true;
        }

        public void Dispose()
        {
            if (OperatingSystem.IsLinux())
                Libc.Munmap(_mapping, _mappingBytes);
            else
                NativeMemory.Free(_mapping);
        }

    }

    private static partial class Libc
    {
        public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;

        [LibraryImport("libc", EntryPoint = "mmap")]
        public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

        [LibraryImport("libc", EntryPoint = "mprotect")]
        public static partial int Mprotect(void* address, nuint length, int protection);

        [LibraryImport("libc", EntryPoint = "munmap")]
        public static partial int Munmap(void* address, nuint length);
    }
}
