using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

internal static unsafe class TensorMemory
{
    /// <summary>
    /// The address of a contiguous CPU tensor's first element. Valid while the tensor lives; the callers keep
    /// the tensors they point into as fields of the same object.
    /// </summary>
    public static T* Pointer<T>(Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
            throw new InvalidOperationException("raw access needs a contiguous CPU tensor");
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tensor.bytes));
    }
}

internal static class Bf16
{
    /// <summary>BF16 is the top half of an F32: widening is a 16-bit shift.</summary>
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        for (var i = 0; i < source.Length; i++)
            destination[i] = BitConverter.Int32BitsToSingle(source[i] << 16);
    }
}
