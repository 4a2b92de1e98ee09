using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Tests.Sampling;

public class StopMatcherTests
{
    private static (string Shown, bool Stopped) Feed(StopMatcher matcher, params string[] pieces)
    {
        var shown = string.Concat(pieces.Select(matcher.Push));
        return (shown + (matcher.Stopped ? "" : matcher.Flush()), matcher.Stopped);
    }

    [Fact]
    public void AStopSequenceSplitAcrossTokensEndsTheTextBeforeIt()
    {
        var (shown, stopped) = Feed(new StopMatcher(["###"]), "Hello #", "#", "# world");

        Assert.True(stopped);
        Assert.Equal("Hello ", shown);
    }

    [Fact]
    public void TextThatOnlyLookedLikeAStopSequenceIsReleasedWhenItTurnsOutNotToBe()
    {
        var matcher = new StopMatcher(["</end>"]);

        Assert.Equal("a ", matcher.Push("a </"));
        Assert.Equal("</b>", matcher.Push("b>"));
        Assert.False(matcher.Stopped);
    }

    [Fact]
    public void HeldBackTextIsReleasedAtTheEnd()
    {
        var (shown, stopped) = Feed(new StopMatcher(["STOP"]), "the end ST");

        Assert.False(stopped);
        Assert.Equal("the end ST", shown);
    }

    [Fact]
    public void TheEarliestOfSeveralStopSequencesWins()
    {
        var (shown, _) = Feed(new StopMatcher(["world", "lo w"]), "hello world");

        Assert.Equal("hel", shown);
    }

    [Fact]
    public void WithoutStopSequencesTextPassesStraightThrough()
    {
        var matcher = new StopMatcher([]);

        Assert.Equal("abc", matcher.Push("abc"));
        Assert.Equal("", matcher.Flush());
    }
}
