using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using TorchSharp;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>
/// MatMul against a plain double-precision product of the same numbers, on every instruction set this CPU has
/// (forced through the internal entry point, so the AVX2 and portable paths run on an AVX-512 machine too).
/// </summary>
public unsafe class MatMulTests
{
    // (batch, rows, cols): batches and rows that fill no tile (1, 5, 17, 25), exactly one (12 × 32 on
    // AVX-512, 6 × 16 elsewhere) or leave a remainder of each (13, 33, 65, 577); a single column; columns
    // that are no multiple of anything; the smol135 shapes' column counts (576, 1536); and two blocks of 960
    // inputs and a remainder. The three with over 2²⁰ flops are split between threads where 2 are allowed.
    private static readonly (int Batch, int Rows, int Cols)[] _shapes =
    [
        (1, 1, 1),
        (17, 33, 1),
        (5, 31, 7),
        (12, 32, 64),
        (6, 16, 5),
        (13, 65, 100),
        (25, 100, 576),
        (40, 577, 33),
        (17, 48, 1536),
        (1925, 33, 10),
    ];

    public static TheoryData<SimdPath, int, int, int, int> PathsShapesAndThreads()
    {
        var data = new TheoryData<SimdPath, int, int, int, int>();
        foreach (var path in Enum.GetValues<SimdPath>().Where(MatVec.IsSupported))
            foreach (var (batch, rows, cols) in _shapes)
                foreach (var threads in new[] { 1, 2 })
                    data.Add(path, batch, rows, cols, threads);
        return data;
    }

    public static TheoryData<SimdPath> Paths() => new(Enum.GetValues<SimdPath>().Where(MatVec.IsSupported));

    [Theory]
    [MemberData(nameof(PathsShapesAndThreads))]
    public void F32MatchesADoublePrecisionProduct(SimdPath path, int batch, int rows, int cols, int threads)
    {
        var problem = new Problem(batch, rows, cols, bf16: false, bias: false);

        problem.AssertMatches(problem.Run(path, threads));
    }

    [Theory]
    [MemberData(nameof(PathsShapesAndThreads))]
    public void Bf16MatchesADoublePrecisionProductOfTheWidenedWeights(SimdPath path, int batch, int rows, int cols, int threads)
    {
        var problem = new Problem(batch, rows, cols, bf16: true, bias: false);

        problem.AssertMatches(problem.Run(path, threads));
    }

    /// <summary>
    /// 8-bit weights are widened while packing by the same products as <see cref="Q8Weights.DequantizeRow"/>, so a
    /// prefill over them equals, bit for bit, the F32 product over the widened matrix.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void Q8EqualsF32OverTheDequantizedWeights(SimdPath path)
    {
        var (batch, rows, cols) = (29, 45, 96);
        var random = new Random(17);
        var w = Enumerable.Range(0, rows * cols).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var x = Enumerable.Range(0, batch * cols).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var bias = Enumerable.Range(0, rows).Select(_ => random.NextSingle()).ToArray();
        Q8Weights q8;
        fixed (float* wData = w)
            q8 = Q8Weights.Quantize(wData, rows, cols);
        var widened = new float[rows * cols];
        for (var r = 0; r < rows; r++)
            q8.DequantizeRow(r, widened.AsSpan(r * cols, cols));
        var (fromQ8, fromF32) = (new float[batch * rows], new float[batch * rows]);

        fixed (float* xData = x, biasData = bias, widenedData = widened, q8Out = fromQ8, f32Out = fromF32)
        {
            MatMul.Multiply(q8.Values, false, xData, biasData, q8Out, rows, cols, batch, path, maxThreads: 2, q8.Scales);
            MatMul.Multiply(widenedData, false, xData, biasData, f32Out, rows, cols, batch, path, maxThreads: 2);
        }

        Assert.Equal(fromF32, fromQ8);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void BiasIsAddedToEveryRow(SimdPath path)
    {
        foreach (var bf16 in new[] { false, true })
        {
            var problem = new Problem(batch: 19, rows: 37, cols: 50, bf16, bias: true);

            problem.AssertMatches(problem.Run(path, threads: 2));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ZeroColumnsGiveTheBias(SimdPath path)
    {
        var problem = new Problem(batch: 3, rows: 5, cols: 0, bf16: false, bias: true);

        var y = problem.Run(path, threads: 2);

        for (var b = 0; b < 3; b++)
            Assert.Equal(problem.Bias, y.AsSpan(b * 5, 5).ToArray());
    }

    [Fact]
    public void PublicEntryPointsMatchADoublePrecisionProduct()
    {
        foreach (var bf16 in new[] { false, true })
        {
            var problem = new Problem(batch: 30, rows: 70, cols: 90, bf16, bias: true);
            var y = new float[30 * 70];
            fixed (float* x = problem.X, bias = problem.Bias, output = y)
            fixed (float* w = problem.W)
            fixed (ushort* wBf16 = problem.WBf16)
            {
                if (bf16)
                    MatMul.Bf16(wBf16, x, output, 70, 90, 30, bias);
                else
                    MatMul.F32(w, x, output, 70, 90, 30, bias);
            }

            problem.AssertMatches(y);
        }
    }

    [Fact]
    public void LinearForwardOnManyRowsMatchesTorchLinear()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(22);
        var w = torch.randn([100, 64], generator: generator);
        var bias = torch.randn([100], generator: generator);
        var x = torch.randn([40, 64], generator: generator);

        foreach (var weight in new[] { w, w.to(torch.bfloat16) })
        {
            var linear = new Linear(weight, bias, torch.CPU);
            var expected = torch.nn.functional.linear(x, weight.to(torch.float32), bias);

            var y = linear.Forward(x);

            // Σ|x||w| + |b| ≤ 64 · 4.5² + 4.5 here; 1e-5 of that is ~80 F32 epsilons, and a wrong or dropped
            // term is off by O(1).
            var magnitude = torch.nn.functional.linear(x.abs(), weight.to(torch.float32).abs(), bias.abs());
            Assert.True((y - expected).abs().le(magnitude * 1e-5).all().item<bool>());
            Assert.Equal([40L, 100L], y.shape);
        }
    }

    [Fact]
    public void InvalidArgumentsAreRejectedBeforeAnyMemoryIsTouched()
    {
        float one = 1, zero = 0;
        float* w = &one, x = &one, y = &zero;

        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.F32(w, x, y, 1, 1, batch: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.F32(w, x, y, -1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.F32(w, x, y, 1, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Multiply(w, false, x, null, y, 1, 1, 1, SimdPath.Portable, maxThreads: 0));
        Assert.Throws<ArgumentNullException>(() => MatMul.F32(null, x, y, 1, 1, 1));
        Assert.Throws<ArgumentNullException>(() => MatMul.Bf16((ushort*)w, x, null, 1, 1, 1));
        Assert.Equal(0f, zero);
    }

    /// <summary>
    /// Random inputs, weights (F32, and the same rounded to BF16) and bias, run with NaN around x, w and bias
    /// (a read outside them poisons the result) and sentinels around y (a write outside it shows).
    /// </summary>
    private sealed class Problem
    {
        private const int Pad = 37;
        private readonly int _batch, _rows, _cols;
        private readonly bool _bf16;
        private readonly float[]? _bias;

        public Problem(int batch, int rows, int cols, bool bf16, bool bias)
        {
            (_batch, _rows, _cols, _bf16) = (batch, rows, cols, bf16);
            // Seeded by the shape: a failure reproduces.
            var random = new Random(batch * 1_000_003 + rows * 1_009 + cols);
            X = Enumerable.Range(0, batch * cols).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            WBf16 = Enumerable.Range(0, rows * cols).Select(_ => (ushort)(BitConverter.SingleToInt32Bits(random.NextSingle() * 2 - 1) >> 16)).ToArray();
            // Random low bits in the F32 weights, so an F32 path that dropped them would show.
            W = WBf16.Select(bits => BitConverter.Int32BitsToSingle(bits << 16 | random.Next(1 << 16))).ToArray();
            _bias = bias ? Enumerable.Range(0, rows).Select(_ => random.NextSingle() * 2 - 1).ToArray() : null;
        }

        public float[] X { get; }

        public float[] W { get; }

        public ushort[] WBf16 { get; }

        public float[] Bias => _bias ?? [];

        public float[] Run(SimdPath path, int threads)
        {
            var x = Padded(X, float.NaN);
            var w = Padded(W, float.NaN);
            var wBf16 = Padded(WBf16, (ushort)0x7FC0); // a BF16 NaN
            var bias = _bias is null ? null : Padded(_bias, float.NaN);
            var y = Padded(new float[_batch * _rows], -12345f);
            fixed (float* xData = x, wData = w, biasData = bias, yData = y)
            fixed (ushort* wBf16Data = wBf16)
            {
                void* weights = _bf16 ? wBf16Data + Pad : wData + Pad;
                MatMul.Multiply(weights, _bf16, xData + Pad, bias is null ? null : biasData + Pad, yData + Pad, _rows, _cols, _batch, path, threads);
            }

            Assert.True(y.Take(Pad).Concat(y.TakeLast(Pad)).All(v => v == -12345f), "the kernel wrote outside y");
            return y.AsSpan(Pad, _batch * _rows).ToArray();
        }

        /// <summary>
        /// Each output within the worst case of F32 summation in any order, fused or not: (cols + 1) units of
        /// roundoff of Σ|x·w| + |bias| (Higham's γ_n), with no allowance taken from a run. A wrong, dropped
        /// or doubled term is off by about one term, Σ/cols, which is larger whenever cols² u &lt; 1.
        /// </summary>
        public void AssertMatches(float[] actual)
        {
            Assert.Equal(_batch * _rows, actual.Length);
            var gamma = 1.01 * (_cols + 1) * Math.Pow(2, -24);
            for (var b = 0; b < _batch; b++)
                for (var r = 0; r < _rows; r++)
                {
                    double sum = _bias?[r] ?? 0, magnitude = Math.Abs(sum);
                    for (var c = 0; c < _cols; c++)
                    {
                        double w = _bf16 ? BitConverter.Int32BitsToSingle(WBf16[r * _cols + c] << 16) : W[r * _cols + c];
                        sum += X[b * _cols + c] * w;
                        magnitude += Math.Abs(X[b * _cols + c] * w);
                    }

                    if (!(Math.Abs(actual[b * _rows + r] - sum) <= gamma * magnitude))
                        Assert.Fail($"y[{b}, {r}] = {actual[b * _rows + r]}, expected {sum} (tolerance {gamma * magnitude})");
                }
        }

        private static T[] Padded<T>(T[] data, T padding)
        {
            var padded = new T[data.Length + 2 * Pad];
            Array.Fill(padded, padding);
            data.CopyTo(padded, Pad);
            return padded;
        }
    }
}
