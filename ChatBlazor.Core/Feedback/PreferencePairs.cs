using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;

namespace ChatBlazor.Core.Feedback;

/// <summary>One message of a preference pair's prompt or answer, as chat fine-tuning tools read it.</summary>
public sealed record PreferenceMessage(string Role, string Content);

/// <summary>Two answers to the same prompt, one preferred: a line of the preference export.</summary>
public sealed record PreferencePair(Guid ConversationId, IReadOnlyList<PreferenceMessage> Prompt, Message Chosen, Message Rejected);

/// <summary>
/// Preference pairs from a conversation's tree. The rules, as the feedback page and README state them:
/// <list type="number">
/// <item>Candidates are the replies to one user turn (siblings: assistant messages with the same parent) that ended
/// with text: status Complete, Length or Stopped and not blank. Failed and filtered replies never take part.</item>
/// <item>Every thumbs-up candidate is chosen over every thumbs-down or unrated candidate of the same turn: one pair each.</item>
/// <item>Nothing else makes a pair: two thumbs-up replies are not ranked, and without a thumbs-up there is no pair (an
/// unrated reply is not known to be better than a thumbs-down one). A lone reply, however rated, has no sibling.</item>
/// <item>The prompt is the branch from the first message to that user turn, oldest first, with roles user and assistant.</item>
/// </list>
/// </summary>
public static class PreferencePairs
{
    public static IEnumerable<PreferencePair> From(Guid conversationId, IReadOnlyList<Message> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var byId = messages.ToDictionary(m => m.Id);
        var turns = messages.Where(m => m.Role == MessageRole.Assistant && m.ParentId is { } parent
                && byId.TryGetValue(parent, out var p) && p.Role == MessageRole.User && IsCandidate(m))
            .GroupBy(m => m.ParentId!.Value)
            .OrderBy(g => byId[g.Key].CreatedAt);
        foreach (var turn in turns)
        {
            var replies = turn.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToList();
            var chosen = replies.Where(m => m.Rating > 0).ToList();
            var rejected = replies.Where(m => m.Rating is null or < 0).ToList();
            if (chosen.Count == 0 || rejected.Count == 0)
                continue;
            var prompt = PromptUpTo(byId, turn.Key);
            foreach (var good in chosen)
                foreach (var bad in rejected)
                    yield return new PreferencePair(conversationId, prompt, good, bad);
        }
    }

    private static bool IsCandidate(Message reply) =>
        (reply.Status is CompletionStatus.Complete or CompletionStatus.Length or CompletionStatus.Stopped) && !string.IsNullOrWhiteSpace(reply.Content);

    private static List<PreferenceMessage> PromptUpTo(Dictionary<Guid, Message> byId, Guid userTurnId)
    {
        var path = new List<PreferenceMessage>();
        var seen = new HashSet<Guid>(); // a corrupt tree with a cycle must not hang the export
        for (Guid? id = userTurnId; id is { } current && byId.TryGetValue(current, out var message) && seen.Add(current); id = message.ParentId)
            path.Add(new PreferenceMessage(message.Role == MessageRole.User ? "user" : "assistant", message.Content));
        path.Reverse();
        return path;
    }
}
