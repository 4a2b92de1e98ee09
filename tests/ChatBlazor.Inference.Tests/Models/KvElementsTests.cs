using System.Numerics;
using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Tests.Models;

/// <summary>The in-register widening of stored keys and values, against .NET's own conversions, on every bit pattern.</summary>
public sealed unsafe class KvElementsTests
{
    [Fact]
    public void F16WidensEveryFiniteHalfExactlyAsDotNetDoes()
    {
        var halves = new ushort[65536];
        for (var i = 0; i < halves.Length; i++)
            halves[i] = (ushort)i;
        var step = 2 * Vector<float>.Count;
        var checkedHalves = 0;
        fixed (ushort* source = halves)
            for (var i = 0; i < 65536; i += step)
            {
                F16Element.Load((byte*)(source + i), out var low, out var high);
                for (var k = 0; k < step; k++)
                {
                    var half = BitConverter.UInt16BitsToHalf((ushort)(i + k));
                    if (!Half.IsFinite(half))
                        continue; // never stored: F16 writes saturate
                    var expected = BitConverter.SingleToInt32Bits((float)half);
                    var actual = k < Vector<float>.Count ? low[k] : high[k - Vector<float>.Count];
                    Assert.True(expected == BitConverter.SingleToInt32Bits(actual), $"0x{i + k:x4}: {(float)half} expected, {actual} widened");
                    Assert.Equal(expected, BitConverter.SingleToInt32Bits(F16Element.ToSingle((byte*)(source + i + k))));
                    checkedHalves++;
                }
            }
        Assert.Equal(65536 - 2 * 1024, checkedHalves); // all but the two exponent-31 ranges (±infinity and NaN)
    }

    [Theory]
    [InlineData(1e6f, 65504f)]
    [InlineData(-1e9f, -65504f)]
    [InlineData(float.PositiveInfinity, 65504f)]
    [InlineData(70000f, 65504f)]
    [InlineData(65519f, 65504f)] // would round up to infinity
    [InlineData(-3.5f, -3.5f)]
    public void F16KeysAndValuesSaturateInsteadOfOverflowing(float written, float read)
    {
        var config = ModelConfig.Load(Path.Combine(GoldenModelTests.FixturePath("tiny-f32"), "config.json"));
        using var cache = new KvCache(config, 1, TorchSharp.torch.CPU, KvType.F16);
        var row = Enumerable.Repeat(written, config.HeadDim).ToArray();
        cache.Write(0, 0, 0, row, row);
        Assert.All(cache.Read(0, 0, 0, 0), value => Assert.Equal(read, value));
        Assert.All(cache.Read(0, 1, 0, 0), value => Assert.Equal(read, value));
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
