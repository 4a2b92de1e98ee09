namespace ChatBlazor.Inference.Loadgen;

/// <summary>Mean, median and p99 of one latency, in milliseconds; null when there were no samples.</summary>
internal sealed record LatencySummary(double? MeanMs, double? MedianMs, double? P99Ms)
{
    public static LatencySummary FromSeconds(IEnumerable<double> seconds)
    {
        var ms = seconds.Select(s => s * 1000).ToArray();
        return ms.Length == 0
            ? new LatencySummary(null, null, null)
            : new LatencySummary(ms.Average(), Percentiles.Of(ms, 50), Percentiles.Of(ms, 99));
    }
}

internal static class Percentiles
{
    /// <summary>
    /// The p-th percentile (0 to 100) by linear interpolation between the two nearest ranks, as numpy's default
    /// <c>np.percentile</c> computes it, so our numbers compare with vLLM's benchmark_serving.py.
    /// </summary>
    public static double Of(IReadOnlyCollection<double> samples, double p)
    {
        if (samples.Count == 0)
            throw new ArgumentException("a percentile needs at least one sample", nameof(samples));
        if (p is < 0 or > 100)
            throw new ArgumentOutOfRangeException(nameof(p), p, "a percentile is between 0 and 100");
        var sorted = samples.Order().ToArray();
        var rank = p / 100 * (sorted.Length - 1);
        var below = (int)Math.Floor(rank);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
    }
}
