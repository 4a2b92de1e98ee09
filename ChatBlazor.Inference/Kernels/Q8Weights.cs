using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// A weight matrix in 8 bits: each row split into blocks of <see cref="BlockSize"/> columns, each block stored as
/// int8 values q with one F32 scale s, w ≈ q · s (llama.cpp's Q8_0 layout, rows contiguous, scales in a parallel
/// array). About 1.1 bytes per weight against 2 for BF16 and 4 for F32.
/// </summary>
/// <remarks>
/// Symmetric rounding: s = max|w| / 127 and q = round(w · 127 / max|w|), so q stays in [−127, 127] (never −128,
/// which the kernels' sign trick relies on) and every weight is off by at most s / 2. The same rule quantizes the
/// activations in <see cref="Q8MatVec"/>, through <see cref="QuantizeBlocks"/>.
/// </remarks>
public sealed unsafe class Q8Weights
{
    public const int BlockSize = 32;

    // Pinned, so the addresses below stay valid for the kernels without fixing them on every call.
    private readonly sbyte[] _values; // rows × cols
    private readonly float[] _scales; // rows × cols / BlockSize
    private readonly short[] _sums;   // rows × cols / BlockSize: Σq of each block, for the VNNI kernel's offset

    private Q8Weights(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (cols <= 0 || cols % BlockSize != 0)
            throw new ArgumentException($"8-bit weights need a positive multiple of {BlockSize} columns, got {cols}");
        (Rows, Cols) = (rows, cols);
        _values = GC.AllocateUninitializedArray<sbyte>(checked(rows * cols), pinned: true);
        _scales = GC.AllocateUninitializedArray<float>(rows * (cols / BlockSize), pinned: true);
        _sums = GC.AllocateUninitializedArray<short>(rows * (cols / BlockSize), pinned: true);
        Values = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_values));
        Scales = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scales));
        Sums = (short*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_sums));
    }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>The memory the matrix takes: one byte per weight and 6 per block.</summary>
    public long Bytes => _values.LongLength + _scales.LongLength * sizeof(float) + _sums.LongLength * sizeof(short);

    internal sbyte* Values { get; }

    internal float* Scales { get; }

    /// <summary>Each block's Σq (at most 32 · 127 in magnitude).</summary>
    internal short* Sums { get; }

    /// <summary>Quantizes a row-major rows × cols F32 matrix; cols must be a multiple of <see cref="BlockSize"/>.</summary>
    public static Q8Weights Quantize(float* source, int rows, int cols)
    {
        var q8 = new Q8Weights(rows, cols);
        var blocks = cols / BlockSize;
        // Loading a model quantizes ~100 M weights or more: share the rows out.
        Parallel.For(0, rows, row =>
        {
            var values = q8.Values + (long)row * cols;
            QuantizeBlocks(source + (long)row * cols, cols, values, q8.Scales + (long)row * blocks);
            for (var block = 0; block < blocks; block++)
            {
                var sum = 0;
                for (var i = 0; i < BlockSize; i++)
                    sum += values[block * BlockSize + i];
                q8.Sums[(long)row * blocks + block] = (short)sum;
            }
        });
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
        var values = Values + (long)row * Cols;
        var scales = Scales + (long)row * (Cols / BlockSize);
        fixed (float* output = destination)
            for (var block = 0; block < Cols / BlockSize; block++)
            {
                // 32 int8 → 4 × 8 F32, times the block's scale (prefill widens whole matrices this way).
                var c = block * BlockSize;
                var scale = Vector256.Create(scales[block]);
                var (low, high) = Vector256.Widen(Vector256.Load(values + c));
                var (a, b) = Vector256.Widen(low);
                var (d, e) = Vector256.Widen(high);
                (Vector256.ConvertToSingle(a) * scale).Store(output + c);
                (Vector256.ConvertToSingle(b) * scale).Store(output + c + 8);
                (Vector256.ConvertToSingle(d) * scale).Store(output + c + 16);
                (Vector256.ConvertToSingle(e) * scale).Store(output + c + 24);
            }
    }
}
