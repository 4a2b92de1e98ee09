using ChatBlazor.Core.Completions;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Orchestration;

/// <summary>The messages a reply is generated from, as the engine will run them, and how many history messages did not fit.</summary>
public sealed record Prompt(IReadOnlyList<ChatMessage> Messages, TokenizedPrompt Tokens, int DroppedMessages);

public static class PromptBuilder
{
    /// <summary>
    /// System prompt + as much recent history as fits + the new message, in at most
    /// <paramref name="contextWindow"/> − <paramref name="replyBudget"/> tokens of the model's own template and
    /// tokenizer. The oldest turns go first, whole: history starts at a user message, so roles still alternate for
    /// templates that insist on it. The system prompt and the new message are never dropped; when they alone do not
    /// fit, the completion is refused (<see cref="RefusalReason.PromptTooLong"/>).
    /// </summary>
    /// <remarks>
    /// Rendering a long conversation through a Jinja template and tokenizing it is the expensive part, so it is done
    /// once for the whole conversation and, when that is too long, once more for the part chosen by counting: each
    /// message's text is tokenized once, and the template's framing is spread evenly over the messages. A count that
    /// comes out short (framing is not quite even) costs one more render, corrected by what the first one missed.
    /// </remarks>
    /// <param name="history">The conversation path before the new message, oldest first, alternating user/assistant.</param>
    /// <param name="tokenizeChat">Renders and tokenizes messages as the engine will run them.</param>
    /// <param name="countText">Tokens of a text alone.</param>
    public static Prompt Build(string? systemPrompt, IReadOnlyList<ChatMessage> history, ChatMessage next, int contextWindow, int replyBudget,
        Func<IReadOnlyList<ChatMessage>, TokenizedPrompt> tokenizeChat, Func<string, int> countText)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(tokenizeChat);
        ArgumentNullException.ThrowIfNull(countText);
        ArgumentOutOfRangeException.ThrowIfLessThan(replyBudget, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(replyBudget, contextWindow);
        var available = contextWindow - replyBudget;
        var system = string.IsNullOrWhiteSpace(systemPrompt) ? null : new ChatMessage("system", systemPrompt);

        List<ChatMessage> From(int start)
        {
            var messages = new List<ChatMessage>(history.Count - start + 2);
            if (system is not null)
                messages.Add(system);
            messages.AddRange(history.Skip(start));
            messages.Add(next);
            return messages;
        }

        var whole = From(0);
        var tokens = tokenizeChat(whole);
        if (tokens.Count <= available)
            return new Prompt(whole, tokens, 0);

        var content = history.Select(m => countText(m.Content)).ToArray();
        var fixedContent = countText(next.Content) + (system is null ? 0 : countText(system.Content));
        var framing = Math.Max(0.0, tokens.Count - content.Sum() - fixedContent) / whole.Count;
        var suffix = new int[history.Count + 1]; // suffix[i]: content tokens of history[i..]
        for (var i = history.Count - 1; i >= 0; i--)
            suffix[i] = suffix[i + 1] + content[i];
        double Estimate(int start) => fixedContent + suffix[start] + framing * (whole.Count - start);

        // Where history may start: at a user message, or after all of it. A render that comes out longer than its
        // estimate tells by how much the estimates run short; later candidates allow for it.
        var starts = Enumerable.Range(1, Math.Max(0, history.Count - 1)).Where(i => history[i].Role == "user").Append(history.Count);
        var shortBy = 0.0;
        foreach (var start in starts)
        {
            if (start < history.Count && Estimate(start) + shortBy > available)
                continue;
            var messages = From(start);
            tokens = tokenizeChat(messages);
            if (tokens.Count <= available)
                return new Prompt(messages, tokens, start);
            shortBy = Math.Max(shortBy, tokens.Count - Estimate(start));
        }
        throw new CompletionRefusedException(RefusalReason.PromptTooLong,
            $"This message is too long for the model: with the system prompt it takes {tokens.Count:N0} tokens, " +
            $"and the model's context window leaves room for {available:N0} once the reply's budget is set aside. " +
            "Shorten the message, lower Max tokens in the settings, or pick a model with a larger window.", "messages");
    }
}
