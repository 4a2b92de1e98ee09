using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Moderation;

/// <summary>A warning an admin gave a user about one of their messages, as the user is shown it.</summary>
/// <param name="Reason">The admin's note, or the policy's reason when they wrote none.</param>
public sealed record ModerationWarning(Guid FlagId, DateTimeOffset WarnedAt, string? Category, string Reason, Guid? ConversationId);

/// <summary>
/// The warnings admins gave a user (flags decided <see cref="ModerationFlagStatus.Warned"/>) until the user has read
/// them: a warning nobody sees changes nobody's behaviour, and the user should know that repeats lead to suspension.
/// </summary>
public sealed class ModerationWarnings(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>The user's unread warnings, oldest first, at most <paramref name="take"/>.</summary>
    public async Task<IReadOnlyList<ModerationWarning>> UnreadAsync(string userId, int take = 5, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ModerationFlags.AsNoTracking()
            .Where(f => f.UserId == userId && f.Status == ModerationFlagStatus.Warned && f.WarningSeenAt == null)
            .OrderBy(f => f.DecidedAt).Take(Math.Clamp(take, 1, 50))
            .Select(f => new { f.Id, f.DecidedAt, f.CreatedAt, f.Category, f.DecisionNote, f.Reason, f.ConversationId })
            .ToListAsync(ct);
        return [.. rows.Select(r => new ModerationWarning(r.Id, r.DecidedAt ?? r.CreatedAt, r.Category, r.DecisionNote ?? r.Reason, r.ConversationId))];
    }

    /// <summary>Marks the user's warning read; false when it is not theirs, not a warning or read already.</summary>
    public async Task<bool> MarkReadAsync(string userId, Guid flagId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        return await db.ModerationFlags
            .Where(f => f.Id == flagId && f.UserId == userId && f.Status == ModerationFlagStatus.Warned && f.WarningSeenAt == null)
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.WarningSeenAt, now), ct) == 1;
    }
}
