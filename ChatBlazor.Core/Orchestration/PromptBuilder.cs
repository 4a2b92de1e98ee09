using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Core.Orchestration;

/// <summary>The messages a reply is generated from, and how many history messages did not fit.</summary>
public sealed record Prompt(IReadOnlyList<ChatMessage> Messages, int PromptTokens, int DroppedMessages);

/// <summary>The new message alone (with the system prompt) does not fit the model's window.</summary>
public sealed class PromptTooLongException(int promptTokens, int available)
    : Exception($"This message is too long for the model: with the system prompt it takes {promptTokens:N0} tokens, " +
                $"and the model's context window leaves room for {available:N0} once the reply's budget is set aside. " +
                "Shorten the message, lower Max tokens in the settings, or pick a model with a larger window.")
{
    public int PromptTokens { get; } = promptTokens;
    public int Available { get; } = available;
}

public static class PromptBuilder
{
    /// <summary>
    /// System prompt + as much recent history as fits + the new message, in at most
    /// <paramref name="contextWindow"/> − <paramref name="replyBudget"/> tokens as <paramref name="countTokens"/>
    /// measures them (the model's own template and tokenizer). The oldest turns go first, whole: history starts at a
    /// user message, so roles still alternate for templates that insist on it. The system prompt and the new
    /// message are never dropped; when they alone do not fit, <see cref="PromptTooLongException"/>.
    /// </summary>
    /// <param name="history">The conversation path before the new message, oldest first, alternating user/assistant.</param>
    public static Prompt Build(string? systemPrompt, IReadOnlyList<ChatMessage> history, ChatMessage next,
        int contextWindow, int replyBudget, Func<IReadOnlyList<ChatMessage>, int> countTokens)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(countTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(replyBudget, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(replyBudget, contextWindow);
        var available = contextWindow - replyBudget;

        List<ChatMessage> From(int start)
        {
            var messages = new List<ChatMessage>(history.Count - start + 2);
            if (!string.IsNullOrWhiteSpace(systemPrompt))
                messages.Add(new ChatMessage("system", systemPrompt));
            messages.AddRange(history.Skip(start));
            messages.Add(next);
            return messages;
        }

        // Where history may start: at its beginning, at a user message, or after all of it.
        var starts = Enumerable.Range(0, history.Count).Where(i => i == 0 || history[i].Role == "user").Append(history.Count).ToArray();
        var minimal = countTokens(From(history.Count));
        if (minimal > available)
            throw new PromptTooLongException(minimal, available);

        // Fewer messages never take more tokens, so the earliest start that fits is found by bisection.
        var (low, high, best) = (0, starts.Length - 1, minimal);
        while (low < high)
        {
            var middle = (low + high) / 2;
            var tokens = countTokens(From(starts[middle]));
            if (tokens <= available)
                (high, best) = (middle, tokens);
            else
                low = middle + 1;
        }
        return new Prompt(From(starts[low]), best, starts[low]);
    }
}
