using System.Numerics;
using System.Runtime.CompilerServices;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// How decoding attention reads one stored key or value element type, widening to F32 in registers as it goes
/// (a separate widening pass stored and reloaded every element): two vectors' worth at a time, or one element.
/// </summary>
internal unsafe interface IKvElement
{
    static abstract int Size { get; }

    /// <summary>2 · Vector&lt;float&gt;.Count elements from <paramref name="source"/>, widened to F32.</summary>
    static abstract void Load(byte* source, out Vector<float> low, out Vector<float> high);

    static abstract float ToSingle(byte* source);
}

internal readonly unsafe struct F32Element : IKvElement
{
    public static int Size => sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* source, out Vector<float> low, out Vector<float> high) =>
        (low, high) = (Vector.Load((float*)source), Vector.Load((float*)source + Vector<float>.Count));

    public static float ToSingle(byte* source) => *(float*)source;
}

internal readonly unsafe struct Bf16Element : IKvElement
{
    public static int Size => sizeof(ushort);

    // BF16 is the top half of an F32: widen the 16-bit lanes to 32 and shift them up.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* source, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load((ushort*)source), out var l, out var h);
        (low, high) = (Vector.AsVectorSingle(Vector.ShiftLeft(l, 16)), Vector.AsVectorSingle(Vector.ShiftLeft(h, 16)));
    }

    public static float ToSingle(byte* source) => BitConverter.Int32BitsToSingle(*(ushort*)source << 16);
}

/// <summary>
/// IEEE half precision, widened exactly with integer operations (.NET has no intrinsic for the F16C convert): the
/// half shifted to the top of a 32-bit lane and arithmetically back by 3 puts its exponent and mantissa where an F32
/// keeps them (the sign stays on top; the copies of it that the shift smeared over the exponent's top are masked
/// off), and that F32 times 2^112 is the half's value, subnormals included. Infinities and NaN would come out as
/// finite numbers, so the cache never stores them: F16 writes saturate (<see cref="KvCache"/>), and a NaN there
/// means the step that wrote it had already produced NaN.
/// </summary>
internal readonly unsafe struct F16Element : IKvElement
{
    public static int Size => sizeof(ushort);

    private const float TwoTo112 = 5.192296858534828e33f; // exactly 2^112

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* source, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load((ushort*)source), out var l, out var h);
        (low, high) = (Widen(l), Widen(h));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Widen(Vector<uint> half)
    {
        var placed = Vector.ShiftRightArithmetic(Vector.AsVectorInt32(Vector.ShiftLeft(half, 16)), 3) & new Vector<int>(unchecked((int)0x8FFFE000));
        return Vector.AsVectorSingle(placed) * new Vector<float>(TwoTo112);
    }

    public static float ToSingle(byte* source) => (float)*(Half*)source;
}
