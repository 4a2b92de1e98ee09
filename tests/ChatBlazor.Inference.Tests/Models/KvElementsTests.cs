using System.Numerics;
using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Tests.Models;

/// <summary>The in-register widening of stored keys and values, against .NET's own conversions, on every bit pattern.</summary>
public sealed unsafe class KvElementsTests
{
    [Fact]
    public void F16WidensEveryHalfExactlyAsDotNetDoes()
    {
        var halves = new ushort[65536 + 2 * Vector<float>.Count];
        for (var i = 0; i < 65536; i++)
            halves[i] = (ushort)i;
        var step = 2 * Vector<float>.Count;
        fixed (ushort* source = halves)
            for (var i = 0; i < 65536; i += step)
            {
                F16Element.Load((byte*)(source + i), out var low, out var high);
                for (var k = 0; k < step; k++)
                {
                    var expected = (float)BitConverter.UInt16BitsToHalf((ushort)(i + k));
                    var actual = k < Vector<float>.Count ? low[k] : high[k - Vector<float>.Count];
                    if (float.IsNaN(expected))
                        Assert.True(float.IsNaN(actual), $"0x{i + k:x4} should widen to NaN, got {actual}");
                    else
                        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"0x{i + k:x4}: {expected} expected, {actual} widened");
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(F16Element.ToSingle((byte*)(source + i + k))));
                }
            }
    }

    [Fact]
    public void Bf16WidensEveryPatternToTheF32WithTheSameTopHalf()
    {
        var step = 2 * Vector<float>.Count;
        var bits = new ushort[65536];
        for (var i = 0; i < bits.Length; i++)
            bits[i] = (ushort)i;
        fixed (ushort* source = bits)
            for (var i = 0; i < 65536; i += step)
            {
                Bf16Element.Load((byte*)(source + i), out var low, out var high);
                for (var k = 0; k < step; k++)
                {
                    var actual = k < Vector<float>.Count ? low[k] : high[k - Vector<float>.Count];
                    Assert.Equal((i + k) << 16, BitConverter.SingleToInt32Bits(actual));
                }
            }
    }
}
