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
/// IEEE half precision, widened exactly with integer operations (.NET has no intrinsic for the F16C convert):
/// exponent and mantissa shifted into place as an F32 times 2^112 gives every finite half, subnormals included;
/// the all-ones exponent (infinity, NaN) is set to F32's instead; then the sign.
/// </summary>
internal readonly unsafe struct F16Element : IKvElement
{
    public static int Size => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* source, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load((ushort*)source), out var l, out var h);
        (low, high) = (Widen(l), Widen(h));
    }

    private const float TwoTo112 = 5.192296858534828e33f; // exactly 2^112

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Widen(Vector<uint> half)
    {
        var magnitude = Vector.ShiftLeft(half & new Vector<uint>(0x7fff), 13);
        var finite = Vector.AsVectorSingle(magnitude) * new Vector<float>(TwoTo112);
        var special = Vector.Equals(half & new Vector<uint>(0x7c00), new Vector<uint>(0x7c00));
        var value = Vector.ConditionalSelect(special, magnitude | new Vector<uint>(0x7f800000), Vector.AsVectorUInt32(finite));
        return Vector.AsVectorSingle(value | Vector.ShiftLeft(half & new Vector<uint>(0x8000), 16));
    }

    public static float ToSingle(byte* source) => (float)*(Half*)source;
}
