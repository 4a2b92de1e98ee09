using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Orchestration;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Tests.Orchestration;

public sealed class PromptBuilderTests
{
    /// <summary>Test double for a model's template + tokenizer: 3 tokens of framing per message plus one per word; counts its renders.</summary>
    private sealed class WordTokenizerDouble(int framing = 3)
    {
        public int Renders { get; private set; }

        public TokenizedPrompt TokenizeChat(IReadOnlyList<ChatMessage> messages)
        {
            Renders++;
            return new(Count(messages), null);
        }

        public int Count(IReadOnlyList<ChatMessage> messages) => messages.Sum(m => framing + CountText(m.Content));

        public static int CountText(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static Prompt Build(WordTokenizerDouble tokenizer, string? system, IReadOnlyList<ChatMessage> history, ChatMessage next, int contextWindow, int replyBudget) =>
        PromptBuilder.Build(system, history, next, contextWindow, replyBudget, tokenizer.TokenizeChat, WordTokenizerDouble.CountText);

    private static List<ChatMessage> Turns(int count) =>
        [.. Enumerable.Range(0, count).SelectMany(i => new[] { new ChatMessage("user", $"question {i} a b c"), new ChatMessage("assistant", $"answer {i} d e f g") })];

    [Fact]
    public void EverythingThatFitsIsKeptAndRenderedOnce()
    {
        var tokenizer = new WordTokenizerDouble();
        var prompt = Build(tokenizer, "Be brief.", Turns(3), new ChatMessage("user", "next"), contextWindow: 1000, replyBudget: 100);

        Assert.Equal(8, prompt.Messages.Count);
        Assert.Equal(0, prompt.DroppedMessages);
        Assert.Equal(tokenizer.Count(prompt.Messages), prompt.Tokens.Count);
        Assert.Equal(1, tokenizer.Renders);
    }

    [Fact]
    public void TheOldestWholeTurnsGoFirstAndTheSystemPromptAndNewMessageStay()
    {
        var tokenizer = new WordTokenizerDouble();
        var history = Turns(10); // each turn: 8 + 9 = 17 tokens
        var next = new ChatMessage("user", "the new one");

        // System "Be brief." 5 + next 6 = 11; room for 100 - 40 - 11 = 49 tokens of history: the last 2 turns (34).
        var prompt = Build(tokenizer, "Be brief.", history, next, contextWindow: 100, replyBudget: 40);

        Assert.Equal("system", prompt.Messages[0].Role);
        Assert.Equal(next, prompt.Messages[^1]);
        Assert.Equal(history.Skip(16), prompt.Messages.Skip(1).SkipLast(1));
        Assert.Equal(16, prompt.DroppedMessages);
        Assert.Equal(45, prompt.Tokens.Count);
    }

    [Fact]
    public void TheResultIsTheLongestSuffixThatFitsForEveryWindowWithAtMostThreeRenders()
    {
        var history = Turns(7);
        var next = new ChatMessage("user", "x");
        for (var window = 20; window < 200; window++)
        {
            var tokenizer = new WordTokenizerDouble();
            var prompt = Build(tokenizer, null, history, next, window, replyBudget: 10);

            // Reference: try every turn boundary from the oldest, linearly.
            var expected = Enumerable.Range(0, 8).Select(t => t * 2).First(start => tokenizer.Count([.. history.Skip(start), next]) <= window - 10);
            Assert.Equal(expected, prompt.DroppedMessages);
            Assert.InRange(tokenizer.Renders, 1, 3);
        }
    }

    [Fact]
    public void FramingThatIsNotEvenCostsOneMoreRenderNotAWrongPrompt()
    {
        // The template frames the first message with far more than the others (a long default system header), so the
        // even spread counts the later turns short; the prompt must still fit.
        var history = Turns(20);
        var next = new ChatMessage("user", "x");
        var renders = 0;
        TokenizedPrompt Uneven(IReadOnlyList<ChatMessage> messages)
        {
            renders++;
            return new(40 + messages.Sum(m => 1 + WordTokenizerDouble.CountText(m.Content)), null);
        }

        var prompt = PromptBuilder.Build(null, history, next, contextWindow: 150, replyBudget: 20, Uneven, WordTokenizerDouble.CountText);

        Assert.True(prompt.Tokens.Count <= 130, $"{prompt.Tokens.Count} tokens");
        Assert.Equal(Uneven(prompt.Messages).Count, prompt.Tokens.Count);
        Assert.Equal(6, prompt.Messages.Count(m => m.Role == "assistant")); // 42 + 13 a turn: six turns fit in 130
        Assert.Equal(3, renders - 1); // the whole conversation, one estimate that ran short, the corrected one
    }

    [Fact]
    public void AMessageTooLongForTheWindowIsRefusedBeforeGeneration()
    {
        var huge = new ChatMessage("user", string.Join(' ', Enumerable.Repeat("word", 500)));

        var error = Assert.Throws<CompletionRefusedException>(() => Build(new WordTokenizerDouble(), "sys", Turns(2), huge, contextWindow: 256, replyBudget: 64));

        Assert.Equal(RefusalReason.PromptTooLong, error.Reason);
        Assert.Contains("507 tokens", error.Message);
        Assert.Contains("room for 192", error.Message);
    }

    [Fact]
    public void AReplyBudgetAsLargeAsTheWindowIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(new WordTokenizerDouble(), null, [], new ChatMessage("user", "hi"), 100, 100));
}
