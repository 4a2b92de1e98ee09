namespace ChatBlazor.Core.Usage;

/// <summary>
/// Fixed latency buckets shared by every rollup row, so rows merge by adding counts. A percentile is read as the
/// upper bound of the bucket it falls in (never below the true value, at most one bucket above it), and the open
/// last bucket is bounded by the slowest completion seen.
/// </summary>
public static class LatencyHistogram
{
    /// <summary>Bucket i counts latencies in (bound[i−1], bound[i]] ms; one more bucket counts those above the last.</summary>
    public static readonly int[] UpperBoundsMs =
        [50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000];

    public static int BucketCount => UpperBoundsMs.Length + 1;

    /// <summary>The latency (ms) at or below which a fraction <paramref name="q"/> of completions ended; null without any.</summary>
    public static int? Percentile(IReadOnlyList<long> counts, int maxLatencyMs, double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        var total = counts.Sum();
        if (total == 0)
            return null;
        var rank = (long)Math.Ceiling(q * total); // the rank-th fastest completion, 1-based
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            seen += counts[i];
            if (seen >= rank)
                return i < UpperBoundsMs.Length ? Math.Min(UpperBoundsMs[i], maxLatencyMs) : maxLatencyMs;
        }
        return maxLatencyMs;
    }
}
