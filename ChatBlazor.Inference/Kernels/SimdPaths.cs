using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ChatBlazor.Inference.Kernels;

/// <summary>The instruction set a kernel runs on.</summary>
public enum SimdPath
{
    /// <summary><see cref="Vector{T}"/>: whatever width the runtime picks (256 bits on x64, 128 on Arm64).</summary>
    Portable,

    /// <summary>256-bit AVX2 with FMA.</summary>
    Avx2,

    /// <summary>512-bit AVX-512F (and BW for widening BF16).</summary>
    Avx512,
}

/// <summary>
/// The handful of vector operations the matrix kernels need, one implementation per instruction set,
/// so the loop structure is written once (<see cref="MatVec"/>) and specialised by the JIT for each.
/// </summary>
/// <remarks>
/// Every load produces two vectors (a "step" of 2 × <see cref="Width"/> columns) because widening BF16
/// with <see cref="Vector.Widen(Vector{ushort}, out Vector{uint}, out Vector{uint})"/> naturally yields
/// two; the other paths just load twice.
/// </remarks>
internal unsafe interface ISimd<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    /// <summary>
    /// How many input vectors one pass over a 4-row tile may handle: 4 rows × that many accumulators,
    /// plus two input registers per vector and two for the weights, must fit in the register file.
    /// </summary>
    static abstract int MaxBatch { get; }

    static abstract void Load(float* source, out TVector low, out TVector high);

    /// <summary>Loads 2 × Width BF16 values (raw bits) as F32: BF16 is the top half of an F32.</summary>
    static abstract void Load(ushort* source, out TVector low, out TVector high);

    /// <summary>a × b + addend, fused where the hardware can.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector addend);

    static abstract float Sum(TVector vector);

    /// <summary>
    /// Asks for the cache line at <paramref name="address"/> to be brought into L2. Never faults, so it
    /// may point past the end of the matrix.
    /// </summary>
    static abstract void Prefetch(byte* address);
}

internal readonly unsafe struct Avx512Simd : ISimd<Vector512<float>>
{
    public static bool IsSupported => Avx512F.IsSupported && Avx512BW.IsSupported;

    public static int Width => Vector512<float>.Count;

    // 16 accumulators + 8 inputs + 2 weights = 26 of the 32 zmm registers.
    public static int MaxBatch => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(float* source, out Vector512<float> low, out Vector512<float> high)
    {
        low = Vector512.Load(source);
        high = Vector512.Load(source + Vector512<float>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(ushort* source, out Vector512<float> low, out Vector512<float> high)
    {
        low = Widen(Vector256.Load(source));
        high = Widen(Vector256.Load(source + Vector256<ushort>.Count));

        // vpmovzxwd then a 16-bit shift left puts the BF16 bits where an F32's sign, exponent and top
        // mantissa bits are: an exact conversion.
        static Vector512<float> Widen(Vector256<ushort> bf16) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(bf16), 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> addend) =>
        Avx512F.FusedMultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> vector) => Vector512.Sum(vector);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* address) => Sse.Prefetch1(address);
}

internal readonly unsafe struct Avx2Simd : ISimd<Vector256<float>>
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    public static int Width => Vector256<float>.Count;

    // Only 16 ymm registers: 8 accumulators + 4 inputs + 2 weights.
    public static int MaxBatch => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(float* source, out Vector256<float> low, out Vector256<float> high)
    {
        low = Vector256.Load(source);
        high = Vector256.Load(source + Vector256<float>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(ushort* source, out Vector256<float> low, out Vector256<float> high)
    {
        // vpmovzxwd straight from memory, 8 values at a time; see Avx512Simd for the shift.
        low = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(source), 16).AsSingle();
        high = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(source + Vector256<float>.Count), 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend) =>
        Fma.MultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> vector) => Vector256.Sum(vector);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* address) => Sse.Prefetch1(address);
}

internal readonly unsafe struct PortableSimd : ISimd<Vector<float>>
{
    public static int Width => Vector<float>.Count;

    // Sized for the smallest register file it may meet (x64 without AVX-512: 16 registers).
    public static int MaxBatch => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(float* source, out Vector<float> low, out Vector<float> high)
    {
        low = Vector.Load(source);
        high = Vector.Load(source + Vector<float>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(ushort* source, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load(source), out var lowBits, out var highBits);
        low = Vector.AsVectorSingle(Vector.ShiftLeft(lowBits, 16));
        high = Vector.AsVectorSingle(Vector.ShiftLeft(highBits, 16));
    }

    // Fused only where the hardware fuses; a software-emulated FMA would be far slower than a * b + c.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> addend) =>
        Vector.MultiplyAddEstimate(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector<float> vector) => Vector.Sum(vector);

    public static void Prefetch(byte* address)
    {
    }
}
