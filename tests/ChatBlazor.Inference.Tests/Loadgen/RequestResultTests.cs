using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class RequestResultTests
{
    [Fact]
    public void TtftIsTheArrivalOfTheFirstOutputChunk()
    {
        var result = RequestResult.Completed(10, 4, [0.1, 0.3, 0.6], 0.7);

        Assert.Equal(0.1, result.TtftS);
    }

    [Fact]
    public void TpotSpreadsTheTimeAfterTheFirstTokenOverTheRemainingTokens()
    {
        // 4 tokens in 3 chunks, first at 0.1 s, stream ends at 0.7 s: (0.7 − 0.1) / (4 − 1) = 0.2 s.
        var result = RequestResult.Completed(10, 4, [0.1, 0.3, 0.6], 0.7);

        Assert.Equal(0.2, result.TpotS!.Value, 12);
    }

    [Fact]
    public void ItlHasEveryGapBetweenConsecutiveChunks()
    {
        var result = RequestResult.Completed(10, 4, [0.1, 0.3, 0.6], 0.7);

        Assert.Equal([0.2, 0.3], result.InterChunkGapsS.Select(g => Math.Round(g, 12)));
    }

    [Fact]
    public void TpotIsUndefinedForASingleToken()
    {
        var result = RequestResult.Completed(10, 1, [0.1], 0.1);

        Assert.Null(result.TpotS);
        Assert.Empty(result.InterChunkGapsS);
    }

    [Fact]
    public void WithoutUsageEachOutputChunkCountsAsOneToken()
    {
        var result = RequestResult.Completed(10, null, [0.1, 0.2, 0.3], 0.4);

        Assert.Equal(3, result.OutputTokens);
        Assert.True(result.OutputCountedFromChunks);
    }

    [Fact]
    public void AStreamWithoutOutputIsAFailure()
    {
        var result = RequestResult.Completed(10, 0, [], 0.5);

        Assert.False(result.Succeeded);
        Assert.Equal("the stream ended without any output", result.Error);
    }
}
