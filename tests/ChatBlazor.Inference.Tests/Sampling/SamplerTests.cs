using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Tests.Sampling;

public class SamplerTests
{
    private static int[] Draw(SamplingParams parameters, float[] logits, int count, int[]? prompt = null)
    {
        var sampler = new Sampler(parameters, prompt ?? []);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var id = sampler.Sample(logits).Id;
            sampler.Accept(id);
            return id;
        }).ToArray();
    }

    [Fact]
    public void GreedyPicksTheHighestLogitAndTheLowestIdOnATie() =>
        Assert.Equal(1, new Sampler(SamplingParams.Greedy, []).Sample([0f, 3f, 1f, 3f]).Id);

    [Fact]
    public void TheSameSeedGivesTheSameTokensAndAnotherSeedOthers()
    {
        var logits = Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i)).ToArray();
        var parameters = new SamplingParams { Temperature = 1.0, Seed = 42 };

        var first = Draw(parameters, logits, 40);
        var again = Draw(parameters, logits, 40);
        var other = Draw(parameters with { Seed = 43 }, logits, 40);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void TopKOfOneIsGreedyWhateverTheTemperature() =>
        Assert.All(Draw(new SamplingParams { Temperature = 5, TopK = 1, Seed = 1 }, [1f, 2f, 4f, 3f], 30), id => Assert.Equal(2, id));

    [Fact]
    public void TopPKeepsOnlyTheSmallestSetReachingTheMass()
    {
        // Probabilities ~ [0.64, 0.24, 0.09, 0.03]: top_p 0.8 keeps ids 0 and 1 only.
        float[] logits = [3f, 2f, 1f, 0f];

        var drawn = Draw(new SamplingParams { TopP = 0.8, Seed = 7 }, logits, 400);

        Assert.Equal([0, 1], drawn.Distinct().Order());
    }

    [Fact]
    public void MinPDropsTokensFarLessLikelyThanTheBest()
    {
        // Relative to the best token: e^-1 ≈ 0.37 stays, e^-3 ≈ 0.05 goes under min_p 0.1.
        var drawn = Draw(new SamplingParams { MinP = 0.1, Seed = 3 }, [5f, 4f, 2f], 400);

        Assert.Equal([0, 1], drawn.Distinct().Order());
    }

    [Fact]
    public void LogitBiasCanForceAToken() =>
        Assert.All(Draw(new SamplingParams { Seed = 5, LogitBias = new Dictionary<int, double> { [3] = 100 } }, [2f, 2f, 2f, 0f], 20),
            id => Assert.Equal(3, id));

    [Fact]
    public void RepetitionPenaltyStopsGreedyRepeatingAPromptToken()
    {
        // Token 0 leads by 1.0 but is in the prompt: 3.0 / 2 = 1.5 < 2.0.
        var id = new Sampler(SamplingParams.Greedy with { RepetitionPenalty = 2.0 }, [0]).Sample([3f, 2f]).Id;

        Assert.Equal(1, id);
    }

    [Fact]
    public void FrequencyPenaltyGrowsWithEachRepeat()
    {
        // Greedy with frequency 0.6: token 0 (logit 1.0) wins, then 1.0 - 0.6 = 0.4 < 0.5 so token 1, then
        // token 1 drops to -0.1 and token 0 (0.4) wins again.
        var drawn = Draw(SamplingParams.Greedy with { FrequencyPenalty = 0.6 }, [1.0f, 0.5f], 3);

        Assert.Equal([0, 1, 0], drawn);
    }

    [Fact]
    public void LogprobsAreTheModelsOwnAndListTheBestAlternatives()
    {
        // log softmax of [ln 1, ln 2, ln 1] = ln [0.25, 0.5, 0.25]
        float[] logits = [0f, MathF.Log(2), 0f];

        var sampled = new Sampler(SamplingParams.Greedy with { TopLogprobs = 2 }, []).Sample(logits);

        Assert.Equal(1, sampled.Id);
        Assert.Equal(Math.Log(0.5), sampled.Logprob, 5);
        Assert.Equal([1, 0], sampled.Top!.Select(t => t.Id));
        Assert.Equal(Math.Log(0.25), sampled.Top![1].Logprob, 5);
    }

    [Theory]
    [InlineData("temperature")]
    [InlineData("top_p")]
    [InlineData("max_tokens")]
    public void OutOfRangeParametersAreRejectedNamingTheField(string field)
    {
        var parameters = field switch
        {
            "temperature" => new SamplingParams { Temperature = -1 },
            "top_p" => new SamplingParams { TopP = 0 },
            _ => new SamplingParams { MaxTokens = 0 },
        };

        var error = Assert.Throws<ArgumentException>(() => parameters.Validate(100));

        Assert.Equal(field, error.ParamName);
    }
}
