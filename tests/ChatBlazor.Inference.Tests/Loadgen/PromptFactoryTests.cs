using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class PromptFactoryTests
{
    [Fact]
    public void WithoutARangeEveryPromptHasExactlyTheInputLength()
    {
        var prompts = PromptFactory.TokenPrompts(50, 16, 0, 8, vocabSize: 100, seed: 0);

        Assert.All(prompts, p => Assert.Equal(16, p.PromptTokens!.Count));
        Assert.All(prompts, p => Assert.Equal(8, p.MaxTokens));
        Assert.Equal(Enumerable.Range(0, 50), prompts.Select(p => p.Index));
    }

    [Fact]
    public void WithARangeLengthsSpreadOverIt()
    {
        // 100 · (1 ± 0.5): every length in [50, 150], and 500 draws reach both halves of it.
        var lengths = PromptFactory.TokenPrompts(500, 100, 0.5, 8, vocabSize: 100, seed: 0).Select(p => p.PromptTokens!.Count).ToArray();

        Assert.All(lengths, n => Assert.InRange(n, 50, 150));
        Assert.Contains(lengths, n => n < 75);
        Assert.Contains(lengths, n => n > 125);
    }

    [Fact]
    public void TokenIdsStayInsideTheVocabulary()
    {
        var ids = PromptFactory.TokenPrompts(20, 64, 0, 8, vocabSize: 10, seed: 0).SelectMany(p => p.PromptTokens!).ToArray();

        Assert.All(ids, id => Assert.InRange(id, 0, 9));
        Assert.Equal(10, ids.Distinct().Count());
    }

    [Fact]
    public void TheSameSeedGivesTheSamePrompts()
    {
        var first = PromptFactory.TokenPrompts(5, 32, 0.2, 8, 1000, seed: 3).SelectMany(p => p.PromptTokens!);
        var second = PromptFactory.TokenPrompts(5, 32, 0.2, 8, 1000, seed: 3).SelectMany(p => p.PromptTokens!);

        Assert.Equal(first, second);
    }

    [Fact]
    public void ChatPromptsHaveOneWordPerRequestedToken()
    {
        var prompts = PromptFactory.TextPrompts(3, 40, 0, 8, seed: 0);

        Assert.All(prompts, p => Assert.Equal(40, p.PromptText!.Split(' ').Length));
        Assert.All(prompts, p => Assert.Null(p.PromptTokens));
    }
}
