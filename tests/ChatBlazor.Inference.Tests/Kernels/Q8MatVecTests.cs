using ChatBlazor.Inference.Kernels;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>
/// The 8-bit quantizer and product, on every integer path this CPU has: against a plain scalar reference written
/// here (exact integer dots in 64 bits), and against the F32 kernel on the dequantized weights, within bounds worked
/// out from F32 rounding and the input quantization error.
/// </summary>
public unsafe class Q8MatVecTests
{
    // Columns of 1 to 48 blocks; rows that leave work items of 1 row and many; batches for each grouping of
    // inputs (1–4, 5 = 4 + 1, 7 = 4 + 3, 16 = 4 × 4), including sizes past one thread's minimum share.
    private static readonly (int Rows, int Cols, int Batch)[] _shapes =
    [
        (1, 32, 1),
        (3, 64, 2),
        (5, 96, 3),
        (7, 32, 4),
        (2, 1024, 5),
        (9, 160, 7),
        (33, 576, 16),
        (1536, 576, 1),
        (576, 1536, 2),
        (4099, 576, 3),
    ];

    public static TheoryData<Q8Path, int, int, int, int> PathsShapesAndThreads()
    {
        var data = new TheoryData<Q8Path, int, int, int, int>();
        foreach (var path in Enum.GetValues<Q8Path>().Where(Q8MatVec.IsSupported))
            foreach (var (rows, cols, batch) in _shapes)
                foreach (var threads in new[] { 1, 2 })
                    data.Add(path, rows, cols, batch, threads);
        return data;
    }

    public static TheoryData<Q8Path> Paths() => new(Enum.GetValues<Q8Path>().Where(Q8MatVec.IsSupported));

    [Fact]
    public void QuantizedWeightsAreWithinHalfAScaleOfTheOriginalAndTheBlockMaximumIsExact()
    {
        var random = new Random(1);
        var w = Values(random, 7 * 96);
        w[5] = 0; // a zero inside a block
        Array.Clear(w, 96, 32); // an all-zero block
        var q8 = Quantize(w, 7, 96);

        var row = new float[96];
        for (var r = 0; r < 7; r++)
        {
            q8.DequantizeRow(r, row);
            for (var block = 0; block < 3; block++)
            {
                var original = w.AsSpan(r * 96 + block * 32, 32);
                var max = 0f;
                foreach (var v in original)
                    max = Math.Max(max, Math.Abs(v));
                var scale = q8.Scale(r, block);
                Assert.Equal(max / 127, scale);
                for (var i = 0; i < 32; i++)
                {
                    var q = q8.Value(r, block * 32 + i);
                    Assert.InRange(q, -127, 127);
                    Assert.Equal(q * scale, row[block * 32 + i]);
                    // Half a step, plus the F32 rounding of w · 127 / max before it is rounded to an integer.
                    Assert.True(Math.Abs(row[block * 32 + i] - original[i]) <= scale * (0.5 + 1e-5),
                        $"row {r} column {block * 32 + i}: {row[block * 32 + i]} for {original[i]}");
                    if (Math.Abs(original[i]) == max && max > 0)
                        Assert.Equal(127, Math.Abs((int)q));
                }
            }
        }
        Assert.Equal(0f, q8.Scale(1, 0));
        Assert.All(Enumerable.Range(0, 32), c => Assert.Equal(0, q8.Value(1, c)));
    }

    [Theory]
    [InlineData(33)]
    [InlineData(16)]
    [InlineData(0)]
    public void ColumnsThatAreNotAMultipleOf32AreRefused(int cols)
    {
        var w = new float[Math.Max(cols, 1) * 2];
        var error = Assert.Throws<ArgumentException>(() => Quantize(w, 2, cols));
        Assert.Contains("multiple of 32", error.Message);
    }

    [Theory]
    [MemberData(nameof(PathsShapesAndThreads))]
    public void ProductMatchesAScalarReferenceOfExactIntegerDots(Q8Path path, int rows, int cols, int batch, int threads)
    {
        var random = new Random(rows * 31 + cols * 7 + batch);
        var q8 = Quantize(Values(random, rows * cols), rows, cols);
        var x = Values(random, batch * cols);

        var y = Multiply(q8, x, batch, path, threads);

        var blocks = cols / 32;
        for (var b = 0; b < batch; b++)
        {
            var (xq, xs) = ReferenceQuantize(x.AsSpan(b * cols, cols));
            for (var r = 0; r < rows; r++)
            {
                double expected = 0, magnitude = 0;
                for (var block = 0; block < blocks; block++)
                {
                    long dot = 0;
                    for (var i = block * 32; i < block * 32 + 32; i++)
                        dot += q8.Value(r, i) * (long)xq[i];
                    var term = (double)q8.Scale(r, block) * xs[block] * dot;
                    expected += term;
                    magnitude += Math.Abs(term);
                }
                // The integer dots are exact in F32 (|dot| ≤ 32 · 127² < 2²⁴); what remains is one rounding for each
                // scale product and each addition, a relative 2⁻²⁴ each, on at most blocks + 8 terms in a row.
                var bound = (blocks + 10) * Math.Pow(2, -24) * magnitude + 1e-30;
                var actual = y[b * rows + r];
                Assert.True(Math.Abs(actual - expected) <= bound,
                    $"{path}: y[{b}, {r}] = {actual}, reference {expected}, bound {bound}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ProductMatchesTheF32KernelOnTheDequantizedWeightsWithinTheInputRounding(Q8Path path)
    {
        const int rows = 300, cols = 576, batch = 5, blocks = cols / 32;
        var random = new Random(7);
        var q8 = Quantize(Values(random, rows * cols), rows, cols);
        var x = Values(random, batch * cols);
        var w = new float[rows * cols];
        for (var r = 0; r < rows; r++)
            q8.DequantizeRow(r, w.AsSpan(r * cols, cols));

        var y = Multiply(q8, x, batch, path, threads: 2);
        var f32 = new float[batch * rows];
        fixed (float* wp = w, xp = x, yp = f32)
            MatVec.F32(wp, xp, yp, rows, cols, batch);

        for (var b = 0; b < batch; b++)
        {
            var (_, xs) = ReferenceQuantize(x.AsSpan(b * cols, cols));
            for (var r = 0; r < rows; r++)
            {
                // Each input moves by at most half its block's scale, so the product by at most Σ (scale / 2) · Σ|w|
                // over the block; plus F32 rounding on both sides.
                double bound = 0, magnitude = 0;
                for (var block = 0; block < blocks; block++)
                    for (var i = block * 32; i < block * 32 + 32; i++)
                    {
                        bound += xs[block] * (0.5 + 1e-5) * Math.Abs(w[r * cols + i]);
                        magnitude += Math.Abs(w[r * cols + i] * x[b * cols + i]);
                    }
                bound += 2 * (cols + 10) * Math.Pow(2, -24) * magnitude;
                Assert.True(Math.Abs(y[b * rows + r] - f32[b * rows + r]) <= bound,
                    $"{path}: y[{b}, {r}] = {y[b * rows + r]}, F32 {f32[b * rows + r]}, bound {bound}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void EachInputOfABatchGetsExactlyWhatItGetsAlone(Q8Path path)
    {
        const int rows = 200, cols = 384, batch = 16;
        var random = new Random(3);
        var q8 = Quantize(Values(random, rows * cols), rows, cols);
        var x = Values(random, batch * cols);

        var batched = Multiply(q8, x, batch, path, threads: 2);

        for (var b = 0; b < batch; b++)
        {
            var alone = Multiply(q8, x.AsSpan(b * cols, cols).ToArray(), 1, path, threads: 1);
            Assert.Equal(alone, batched.AsSpan(b * rows, rows).ToArray());
        }
    }

    [Theory]
    [InlineData(1001, 3, 1)]  // 126 one-group items (the last group 1 row) over 3 threads
    [InlineData(1001, 2, 7)]  // 18 items of 7 groups
    [InlineData(17, 8, 1)]    // more threads than items
    public void RowGroupsSharedOutInAwkwardChunksAreEachComputedOnce(int rows, int threads, int chunkGroups)
    {
        const int cols = 64, batch = 3;
        var random = new Random(rows);
        var q8 = Quantize(Values(random, rows * cols), rows, cols);
        var x = Values(random, batch * cols);

        var whole = Multiply(q8, x, batch, Q8Path.Portable, threads: 1);
        var chunked = Multiply(q8, x, batch, Q8Path.Portable, threads, chunkGroups);

        Assert.Equal(whole, chunked);
    }

    private static float[] Values(Random random, int count)
    {
        // Roughly normal, with a few large values as trained weights and activations have.
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * (random.Next(50) == 0 ? 8 : 1));
        return values;
    }

    private static Q8Weights Quantize(float[] w, int rows, int cols)
    {
        fixed (float* p = w)
            return Q8Weights.Quantize(p, rows, cols);
    }

    /// <summary>The documented rule, written out again: s = max|x| / 127, q = round(x · 127 / max|x|), ties to even.</summary>
    private static (int[] Values, float[] Scales) ReferenceQuantize(ReadOnlySpan<float> x)
    {
        var values = new int[x.Length];
        var scales = new float[x.Length / 32];
        for (var block = 0; block < scales.Length; block++)
        {
            var max = 0f;
            for (var i = 0; i < 32; i++)
                max = Math.Max(max, Math.Abs(x[block * 32 + i]));
            scales[block] = max / 127;
            for (var i = 0; i < 32; i++)
                values[block * 32 + i] = max == 0 ? 0 : (int)MathF.Round(x[block * 32 + i] * (127 / max), MidpointRounding.ToEven);
        }
        return (values, scales);
    }

    private static float[] Multiply(Q8Weights q8, float[] x, int batch, Q8Path path, int threads, int chunkGroups = 0)
    {
        var y = new float[batch * q8.Rows];
        fixed (float* xp = x, yp = y)
            Q8MatVec.Multiply(q8, xp, yp, batch, path, threads, chunkGroups);
        return y;
    }
}
