using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Usage;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Web.Moderation;

/// <summary>
/// The after-completion check of a chat reply, a Hangfire job: the whole reply as stored (its personal data already
/// redacted while it streamed) through the rules and the classifier. What its policies flag, send to review or block
/// becomes a flag of the reply, so it appears in the review queue. Enqueued by <see cref="OutputCheckMeter"/>.
/// </summary>
public sealed class OutputCheck(IDbContextFactory<AppDbContext> dbFactory, ModerationService moderation)
{
    /// <summary>Checks the reply <paramref name="replyId"/>; returns the flag recorded, or null (nothing to flag, deleted, already checked).</summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task<Guid?> RunAsync(Guid replyId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var reply = await db.Messages.AsNoTracking().Where(m => m.Id == replyId && m.Role == MessageRole.Assistant)
            .Select(m => new { m.ConversationId, m.Conversation!.UserId, m.Content }).SingleOrDefaultAsync(ct);
        // A retried run (the first one recorded, then failed to report) must not flag the reply twice.
        if (reply is null || reply.Content.Length == 0
            || await db.ModerationFlags.AnyAsync(f => f.MessageId == replyId && f.Source == ModerationSource.OutputCheck, ct))
            return null;
        var result = moderation.Check(reply.Content);
        if (result.Action is not (ModerationAction.Flag or ModerationAction.Review or ModerationAction.Block))
            return null;
        var context = new ModerationContext(reply.UserId, ModerationSource.OutputCheck, ModerationDirection.Output, reply.ConversationId, replyId);
        return (await moderation.RecordAsync(context, reply.Content, result, ct))?.Id;
    }
}

/// <summary>
/// Hears every settled completion and puts the after-completion check of each chat reply that wrote something on
/// Hangfire's queue. An API completion is not checked afterwards: nothing of it is stored to check or to flag (its
/// input was checked, and its output redacted as it streamed).
/// </summary>
public sealed class OutputCheckMeter(IBackgroundJobClient jobs) : IUsageMeter
{
    public Task RecordAsync(UsageRecord usage, CancellationToken ct)
    {
        if (usage.Source == UsageSource.Chat && usage.CompletionId is { } replyId && usage.CompletionTokens > 0)
            jobs.Enqueue<OutputCheck>(check => check.RunAsync(replyId, CancellationToken.None));
        return Task.CompletedTask;
    }
}
