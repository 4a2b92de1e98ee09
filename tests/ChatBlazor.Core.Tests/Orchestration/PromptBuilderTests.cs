using ChatBlazor.Core.Orchestration;
using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Core.Tests.Orchestration;

public sealed class PromptBuilderTests
{
    // Test double for a model's template + tokenizer: 3 tokens of framing per message plus one per word.
    private static int CountWords(IReadOnlyList<ChatMessage> messages) =>
        messages.Sum(m => 3 + m.Content.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

    private static List<ChatMessage> Turns(int count) =>
        [.. Enumerable.Range(0, count).SelectMany(i => new[] { new ChatMessage("user", $"question {i} a b c"), new ChatMessage("assistant", $"answer {i} d e f g") })];

    [Fact]
    public void EverythingThatFitsIsKept()
    {
        var prompt = PromptBuilder.Build("Be brief.", Turns(3), new ChatMessage("user", "next"), contextWindow: 1000, replyBudget: 100, CountWords);

        Assert.Equal(8, prompt.Messages.Count);
        Assert.Equal(0, prompt.DroppedMessages);
        Assert.Equal(CountWords(prompt.Messages), prompt.PromptTokens);
    }

    [Fact]
    public void TheOldestWholeTurnsGoFirstAndTheSystemPromptAndNewMessageStay()
    {
        var history = Turns(10); // each turn: 8 + 9 = 17 tokens
        var next = new ChatMessage("user", "the new one");

        // System "Be brief." 5 + next 6 = 11; room for 100 - 40 - 11 = 49 tokens of history: the last 2 turns (34).
        var prompt = PromptBuilder.Build("Be brief.", history, next, contextWindow: 100, replyBudget: 40, CountWords);

        Assert.Equal("system", prompt.Messages[0].Role);
        Assert.Equal(next, prompt.Messages[^1]);
        Assert.Equal(history.Skip(16), prompt.Messages.Skip(1).SkipLast(1));
        Assert.Equal(16, prompt.DroppedMessages);
        Assert.Equal(45, prompt.PromptTokens);
    }

    [Fact]
    public void TheResultIsTheLongestSuffixThatFitsForEveryWindow()
    {
        var history = Turns(7);
        var next = new ChatMessage("user", "x");
        for (var window = 20; window < 200; window++)
        {
            var prompt = PromptBuilder.Build(null, history, next, window, replyBudget: 10, CountWords);

            // Reference: try every turn boundary from the oldest, linearly.
            var expected = Enumerable.Range(0, 8).Select(t => t * 2).First(start => CountWords([.. history.Skip(start), next]) <= window - 10);
            Assert.Equal(expected, prompt.DroppedMessages);
        }
    }

    [Fact]
    public void AMessageTooLongForTheWindowIsAClearErrorBeforeGeneration()
    {
        var huge = new ChatMessage("user", string.Join(' ', Enumerable.Repeat("word", 500)));

        var error = Assert.Throws<PromptTooLongException>(() => PromptBuilder.Build("sys", Turns(2), huge, contextWindow: 256, replyBudget: 64, CountWords));

        Assert.Equal((507, 192), (error.PromptTokens, error.Available));
        Assert.Contains("too long", error.Message);
    }

    [Fact]
    public void AReplyBudgetAsLargeAsTheWindowIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PromptBuilder.Build(null, [], new ChatMessage("user", "hi"), 100, 100, CountWords));
}
