namespace ChatBlazor.Inference.Loadgen;

/// <summary>
/// Request arrivals as a Poisson process: independent, exponentially distributed gaps with mean 1/rate, as real
/// users' requests roughly arrive. Seeded, so two runs send on the same schedule.
/// </summary>
internal sealed class PoissonArrivals
{
    private readonly Random _random;

    public PoissonArrivals(double requestsPerSecond, int seed)
    {
        if (!(requestsPerSecond > 0) || double.IsInfinity(requestsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(requestsPerSecond), requestsPerSecond, "the request rate must be a positive number");
        Rate = requestsPerSecond;
        _random = new Random(seed);
    }

    public double Rate { get; }

    /// <summary>Seconds until the next request, by inverting the exponential distribution's CDF.</summary>
    public double NextGapS() => -Math.Log(1 - _random.NextDouble()) / Rate;
}
