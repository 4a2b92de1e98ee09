using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// A weight matrix in 8 bits: each row split into blocks of <see cref="BlockSize"/> columns, each block stored as
/// int8 values q with one F32 scale s, w ≈ q · s (llama.cpp's Q8_0 rule). About 1.1 bytes per weight against 2 for
/// BF16 and 4 for F32.
/// </summary>
/// <remarks>
/// <para>Symmetric rounding: s = max|w| / 127 and q = round(w · 127 / max|w|), so q stays in [−127, 127] (never −128,
/// which the kernels' sign trick relies on) and every weight is off by at most s / 2. The same rule quantizes the
/// activations in <see cref="Q8MatVec"/>, through <see cref="QuantizeBlocks"/>.</para>
/// <para>Rows are stored in groups of <see cref="GroupRows"/>, interleaved so that a 256-bit vector of 32 bytes holds
/// 4 consecutive values of each of the 8 rows: for row group g and column block b, 256 bytes hold 8 such steps, step
/// t carrying columns 32b + 4t .. 32b + 4t + 3 of row 8g + l at bytes 4l .. 4l + 3. A dot-product instruction then
/// leaves each row's sum in its own 32-bit lane, so a block's 8 row sums come out of 8 instructions with no
/// horizontal additions, and the 8 scales of a block sit side by side. Values are kept as q + 128 in unsigned bytes
/// (VNNI's unsigned operand). A last group short of 8 rows is padded with zero rows.</para>
/// </remarks>
public sealed unsafe class Q8Weights
{
    public const int BlockSize = 32;

    /// <summary>Rows interleaved together: one 32-bit lane each in a 256-bit vector.</summary>
    public const int GroupRows = 8;

    /// <summary>Bytes of one row group's block: 8 rows × 32 values.</summary>
    internal const int GroupBlockBytes = GroupRows * BlockSize;

    // Pinned, so the addresses below stay valid for the kernels without fixing them on every call.
    private readonly byte[] _values;  // groups × blocks × 256, interleaved as above
    private readonly float[] _scales; // groups × blocks × 8: a block's scales for the group's 8 rows

    private Q8Weights(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (cols <= 0 || cols % BlockSize != 0)
            throw new ArgumentException($"8-bit weights need a positive multiple of {BlockSize} columns, got {cols}");
        (Rows, Cols) = (rows, cols);
        Groups = (rows + GroupRows - 1) / GroupRows;
        _values = GC.AllocateUninitializedArray<byte>(checked(Groups * GroupRows * cols), pinned: true);
        _scales = GC.AllocateUninitializedArray<float>(Groups * GroupRows * (cols / BlockSize), pinned: true);
        Values = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_values));
        Scales = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scales));
    }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Row groups of <see cref="GroupRows"/>, the last one padded.</summary>
    public int Groups { get; }

    /// <summary>The memory the matrix takes: one byte per weight and 4 per block, padding rows included.</summary>
    public long Bytes => _values.LongLength + _scales.LongLength * sizeof(float);

    /// <summary>The interleaved values, q + 128.</summary>
    internal byte* Values { get; }

    /// <summary>The scales, [group][block][row in group].</summary>
    internal float* Scales { get; }

    /// <summary>Where w[row, col]'s byte is among <see cref="Values"/>, for a matrix of cols columns.</summary>
    internal static long Offset(int row, int col, int cols) =>
        ((long)(row / GroupRows) * (cols / BlockSize) + col / BlockSize) * GroupBlockBytes
        + col % BlockSize / 4 * (GroupRows * 4) + row % GroupRows * 4 + col % 4;

    /// <summary>The quantized value q of w[row, col].</summary>
    internal sbyte Value(int row, int col) => (sbyte)(Values[Offset(row, col, Cols)] - 128);

    /// <summary>The scale of the block of row <paramref name="row"/> that holds column block <paramref name="block"/>.</summary>
    internal float Scale(int row, int block) =>
        Scales[((long)(row / GroupRows) * (Cols / BlockSize) + block) * GroupRows + row % GroupRows];

    /// <summary>Quantizes a row-major rows × cols F32 matrix; cols must be a multiple of <see cref="BlockSize"/>.</summary>
    public static Q8Weights Quantize(float* source, int rows, int cols)
    {
        var q8 = new Q8Weights(rows, cols);
        var blocks = cols / BlockSize;
        // Loading a model quantizes ~100 M weights or more: share the row groups out.
        Parallel.For(0, q8.Groups, () => (new sbyte[cols], new float[blocks]), (group, _, scratch) =>
        {
            var (values, scales) = scratch;
            for (var lane = 0; lane < GroupRows; lane++)
            {
                var row = group * GroupRows + lane;
                if (row < rows)
                    fixed (sbyte* v = values)
                    fixed (float* s = scales)
                        QuantizeBlocks(source + (long)row * cols, cols, v, s);
                else
                {
                    Array.Clear(values);
                    Array.Clear(scales);
                }
                for (var block = 0; block < blocks; block++)
                {
                    var chunk = q8.Values + ((long)group * blocks + block) * GroupBlockBytes + lane * 4;
                    for (var i = 0; i < BlockSize; i++)
                        chunk[i / 4 * (GroupRows * 4) + i % 4] = (byte)(values[block * BlockSize + i] + 128);
                    q8.Scales[((long)group * blocks + block) * GroupRows + lane] = scales[block];
                }
            }
            return scratch;
        }, _ => { });
        return q8;
    }

    /// <summary>
    /// Quantizes cols values (a multiple of <see cref="BlockSize"/>) block by block: writes the int8 values, one scale
    /// per block and, if asked, the values' magnitudes |q| (what the kernels multiply). An all-zero block gets scale 0
    /// and values 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeBlocks(float* source, int cols, sbyte* values, float* scales, byte* magnitudes = null)
    {
        for (var block = 0; block < cols / BlockSize; block++)
        {
            var x = source + block * BlockSize;
            var q = values + block * BlockSize;
            if (Vector256.IsHardwareAccelerated)
            {
                // Every decode step quantizes its inputs this way (~10⁵ values a token): 8 lanes at a time. Vector256.Round
                // rounds half to even, as MathF.Round does, so both branches give the same values.
                var (v0, v1, v2, v3) = (Vector256.Load(x), Vector256.Load(x + 8), Vector256.Load(x + 16), Vector256.Load(x + 24));
                var max = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
                var largest = Vector256.Max(max, Vector256.Shuffle(max, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)));
                largest = Vector256.Max(largest, Vector256.Shuffle(largest, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
                largest = Vector256.Max(largest, Vector256.Shuffle(largest, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
                var blockMax = largest.ToScalar();
                scales[block] = blockMax / 127;
                var inverse = Vector256.Create(blockMax == 0 ? 0 : 127 / blockMax);
                var packed = Vector256.Narrow(
                    Vector256.Narrow(Quantized(v0, inverse), Quantized(v1, inverse)),
                    Vector256.Narrow(Quantized(v2, inverse), Quantized(v3, inverse)));
                packed.Store(q);
                if (magnitudes != null)
                    Vector256.Abs(packed).AsByte().Store(magnitudes + block * BlockSize);
                continue;
            }

            var scalarMax = 0f;
            for (var i = 0; i < BlockSize; i++)
                scalarMax = MathF.Max(scalarMax, MathF.Abs(x[i]));
            scales[block] = scalarMax / 127;
            var scalarInverse = scalarMax == 0 ? 0 : 127 / scalarMax;
            for (var i = 0; i < BlockSize; i++)
            {
                q[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * scalarInverse), -127, 127);
                if (magnitudes != null)
                    magnitudes[block * BlockSize + i] = (byte)Math.Abs(q[i]);
            }
        }

        // |x · 127 / max| ≤ 127 before rounding (up to one F32 rounding, which cannot reach 127.5), so no clamp.
        static Vector256<int> Quantized(Vector256<float> x, Vector256<float> inverse) =>
            Vector256.ConvertToInt32(Vector256.Round(x * inverse));
    }

    /// <summary>Row <paramref name="row"/> widened back to F32: q · s.</summary>
    public void DequantizeRow(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        if (destination.Length < Cols)
            throw new ArgumentException($"the destination holds {destination.Length} values, the row {Cols}");
        fixed (float* output = destination)
            WidenRow(Values, Scales, row, Cols, output, 1);
    }

    /// <summary>
    /// Row <paramref name="row"/> of a matrix of <paramref name="cols"/> columns in this layout, q · s, written to
    /// destination[c · stride]: the one widening every caller shares (decoding's embeddings, prefill's packing), so a
    /// prefill equals a product over the widened matrix.
    /// </summary>
    internal static void WidenRow(byte* values, float* scales, int row, int cols, float* destination, int stride)
    {
        var blocks = cols / BlockSize;
        var (group, lane) = (row / GroupRows, row % GroupRows);
        for (var block = 0; block < blocks; block++)
        {
            var chunk = values + ((long)group * blocks + block) * GroupBlockBytes + lane * 4;
            var scale = scales[((long)group * blocks + block) * GroupRows + lane];
            var output = destination + (long)block * BlockSize * stride;
            for (var step = 0; step < BlockSize / 4; step++)
                for (var i = 0; i < 4; i++)
                    output[(step * 4 + i) * stride] = (sbyte)(chunk[step * GroupRows * 4 + i] - 128) * scale;
        }
    }
}
