using ChatBlazor.Core.Usage;

namespace ChatBlazor.Core.Tests.Usage;

public sealed class LatencyHistogramTests
{
    private static long[] Counts(params (int Bucket, long Count)[] filled)
    {
        var counts = new long[LatencyHistogram.BucketCount];
        foreach (var (bucket, count) in filled)
            counts[bucket] = count;
        return counts;
    }

    [Fact]
    public void APercentileIsTheUpperBoundOfTheBucketItFallsIn()
    {
        // Buckets 0 (≤50 ms) and 4 (300–500 ms): 50 and 50.
        var counts = Counts((0, 50), (4, 50));

        Assert.Equal(50, LatencyHistogram.Percentile(counts, maxLatencyMs: 480, 0.50));
        Assert.Equal(480, LatencyHistogram.Percentile(counts, maxLatencyMs: 480, 0.51)); // capped by the slowest seen
        Assert.Equal(480, LatencyHistogram.Percentile(counts, maxLatencyMs: 480, 0.99));
    }

    [Fact]
    public void TheOpenLastBucketIsBoundedByTheSlowestCompletion()
    {
        var counts = Counts((1, 1), (LatencyHistogram.BucketCount - 1, 1));

        Assert.Equal(100, LatencyHistogram.Percentile(counts, 400_000, 0.5));
        Assert.Equal(400_000, LatencyHistogram.Percentile(counts, 400_000, 0.99));
    }

    [Fact]
    public void NoCompletionsHaveNoPercentile() => Assert.Null(LatencyHistogram.Percentile(Counts(), 0, 0.5));
}
