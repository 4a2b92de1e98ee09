using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class PoissonArrivalsTests
{
    private static double[] Gaps(PoissonArrivals arrivals, int count) => Enumerable.Range(0, count).Select(_ => arrivals.NextGapS()).ToArray();

    [Fact]
    public void TheSameSeedGivesTheSameSchedule()
    {
        Assert.Equal(Gaps(new PoissonArrivals(4, seed: 7), 100), Gaps(new PoissonArrivals(4, seed: 7), 100));
    }

    [Fact]
    public void ADifferentSeedGivesADifferentSchedule()
    {
        Assert.NotEqual(Gaps(new PoissonArrivals(4, seed: 7), 100), Gaps(new PoissonArrivals(4, seed: 8), 100));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(4)]
    [InlineData(250)]
    public void MeanGapIsTheInverseOfTheRate(double rate)
    {
        // Exponential gaps have standard deviation 1/rate, so the mean of 10,000 is within 1% (one sigma) of 1/rate
        // and 5% is five sigma; the seed fixes the samples anyway, so this cannot flake.
        var gaps = Gaps(new PoissonArrivals(rate, seed: 0), 10_000);

        Assert.All(gaps, g => Assert.True(g >= 0));
        Assert.InRange(gaps.Average(), 0.95 / rate, 1.05 / rate);
    }

    [Fact]
    public void GapsVaryAsAnExponentialDistributionDoes()
    {
        // A fixed spacing of 1/rate would pass the mean test; an exponential has about 63% of gaps below its mean.
        var gaps = Gaps(new PoissonArrivals(1, seed: 0), 10_000);

        Assert.InRange(gaps.Count(g => g < 1.0) / 10_000.0, 0.60, 0.66);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void ARateThatIsNotPositiveAndFiniteIsRefused(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PoissonArrivals(rate, seed: 0));
    }
}
