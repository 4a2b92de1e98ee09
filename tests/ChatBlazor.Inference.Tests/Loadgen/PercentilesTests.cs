using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class PercentilesTests
{
    // Worked by hand with numpy's rule: rank = p/100·(n−1), then interpolate between the neighbouring sorted values.
    [Theory]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 50, 2.5)]           // rank 1.5: 2 + 0.5·(3−2)
    [InlineData(new[] { 1.0, 2, 3, 4 }, 99, 3.97)]          // rank 2.97: 3 + 0.97·(4−3)
    [InlineData(new[] { 10.0, 20, 30, 40, 50 }, 50, 30)]    // rank 2: exactly the middle value
    [InlineData(new[] { 10.0, 20, 30, 40, 50 }, 99, 49.6)]  // rank 3.96: 40 + 0.96·10
    [InlineData(new[] { 10.0, 20, 30, 40, 50 }, 25, 20)]    // rank 1
    [InlineData(new[] { 10.0, 20, 30, 40, 50 }, 0, 10)]
    [InlineData(new[] { 10.0, 20, 30, 40, 50 }, 100, 50)]
    [InlineData(new[] { 7.0 }, 99, 7)]                      // one sample is every percentile
    public void PercentileInterpolatesLinearlyBetweenRanksAsNumpyDoes(double[] samples, double p, double expected)
    {
        Assert.Equal(expected, Percentiles.Of(samples, p), 9);
    }

    [Fact]
    public void PercentileSortsItsSamplesFirst()
    {
        Assert.Equal(3.97, Percentiles.Of([4.0, 1, 3, 2], 99), 9);
    }

    [Fact]
    public void PercentileOfNoSamplesIsRefused()
    {
        Assert.Throws<ArgumentException>(() => Percentiles.Of([], 50));
    }

    [Fact]
    public void SummaryReportsMeanMedianAndP99InMilliseconds()
    {
        // Seconds 0.1, 0.2, 0.3, 0.6: mean 300 ms; median rank 1.5 → 250 ms; p99 rank 2.97 → 300 + 0.97·300 = 591 ms.
        var summary = LatencySummary.FromSeconds([0.1, 0.2, 0.3, 0.6]);

        Assert.Equal(300, summary.MeanMs!.Value, 9);
        Assert.Equal(250, summary.MedianMs!.Value, 9);
        Assert.Equal(591, summary.P99Ms!.Value, 9);
    }

    [Fact]
    public void SummaryOfNoSamplesHasNoValues()
    {
        Assert.Equal(new LatencySummary(null, null, null), LatencySummary.FromSeconds([]));
    }
}
