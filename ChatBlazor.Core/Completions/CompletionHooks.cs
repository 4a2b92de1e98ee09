using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Completions;

/// <summary>What a moderator decided: go on, or refuse with a reason the person who asked can read.</summary>
public sealed record ModerationVerdict(bool Allowed, string? Reason = null)
{
    public static ModerationVerdict Allow { get; } = new(true);

    public static ModerationVerdict Block(string reason) => new(false, reason);
}

/// <summary>
/// Reviews what goes into and comes out of every completion, chat and API alike. Registered moderators run in the
/// order of registration; with none registered (until moderation exists) everything passes.
/// </summary>
public interface ICompletionModerator
{
    /// <summary>After admission, before the engine: a block refuses the request (<see cref="RefusalReason.Moderated"/>).</summary>
    ValueTask<ModerationVerdict> ReviewInputAsync(CompletionTicket ticket, IReadOnlyList<ChatMessage> input, CancellationToken ct);

    /// <summary>
    /// Each piece of text as it streams (<paramref name="final"/> false), then the whole reply once at the end
    /// (<paramref name="final"/> true). A block ends the completion as <see cref="CompletionStatus.Filtered"/>.
    /// </summary>
    ValueTask<ModerationVerdict> ReviewOutputAsync(CompletionTicket ticket, string text, bool final, CancellationToken ct);
}

/// <summary>Hears every completion once, after its usage row is written: where billing meters tokens.</summary>
public interface IUsageMeter
{
    Task RecordAsync(UsageRecord usage, CancellationToken ct);
}
