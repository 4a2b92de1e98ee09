using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Admin;

/// <summary>One admin action: who did what to which target, and when. Rows are only ever added.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>The admin's user id, or <see cref="AuditActor.Shell"/>'s for an operator command.</summary>
    public required string ActorId { get; set; }
    /// <summary>Kept as it was then: the actor's account may be renamed or deleted later.</summary>
    public required string ActorEmail { get; set; }
    /// <summary>A dotted verb such as <c>user.suspend</c>; see <see cref="AuditActions"/>.</summary>
    public required string Action { get; set; }
    /// <summary>What it was done to: a user's email, a model's name, a conversation's id.</summary>
    public required string Target { get; set; }
    /// <summary>The change in words (old → new), never a secret.</summary>
    public string? Details { get; set; }
}

/// <summary>Who acts: an admin signed in to the console, or the shell.</summary>
public sealed record AuditActor(string Id, string Email)
{
    public static readonly AuditActor Shell = new("shell", "operator shell");
}

public static class AuditActions
{
    public const string UserRole = "user.role";
    public const string UserSuspend = "user.suspend";
    public const string UserUnsuspend = "user.unsuspend";
    public const string UserPlan = "user.plan";
    public const string UserQuota = "user.quota";
    public const string UserPasswordReset = "user.password-reset";
    public const string UserApiKeyRevoke = "user.api-key-revoke";
    public const string UserDelete = "user.delete";
    public const string ModelChange = "model.change";
    public const string ModelAdd = "model.add";
    public const string ModelRemove = "model.remove";
    public const string RoutingChange = "routing.change";
    public const string ConversationView = "conversation.view";
    public const string Export = "export";
    public const string UsageAggregate = "usage.aggregate";
    public const string ModerationDecision = "moderation.decision";
    public const string ModerationRule = "moderation.rule";
    public const string ModerationPolicy = "moderation.policy";
    public const string ModerationSettings = "moderation.settings";
}

/// <summary>A page of the audit log, newest first.</summary>
public sealed record AuditQuery(string? Search = null, string? Action = null, int Skip = 0, int Take = 50);

public sealed class AuditLog(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>
    /// Adds the entry to <paramref name="db"/> without saving: the caller saves it with the change it records, so
    /// the log never shows an action that did not happen, nor misses one that did.
    /// </summary>
    public void Add(AppDbContext db, AuditActor actor, string action, string target, string? details = null) =>
        db.AuditEntries.Add(new AuditEntry
        {
            At = clock.GetUtcNow(), ActorId = actor.Id, ActorEmail = actor.Email, Action = action, Target = target, Details = details,
        });

    /// <summary>For actions that change no row of ours (a password reset through Identity, a read-only view).</summary>
    public async Task WriteAsync(AuditActor actor, string action, string target, string? details = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        Add(db, actor, action, target, details);
        await db.SaveChangesAsync(ct);
    }

    public async Task<(IReadOnlyList<AuditEntry> Entries, int Total)> ListAsync(AuditQuery query, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Action))
            rows = rows.Where(e => e.Action == query.Action);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = Like.Containing(query.Search);
            rows = rows.Where(e => EF.Functions.ILike(e.ActorEmail, pattern, "\\") || EF.Functions.ILike(e.Target, pattern, "\\")
                || (e.Details != null && EF.Functions.ILike(e.Details, pattern, "\\")));
        }
        var total = await rows.CountAsync(ct);
        var page = await rows.OrderByDescending(e => e.Id).Skip(query.Skip).Take(Math.Clamp(query.Take, 1, 500)).ToListAsync(ct);
        return (page, total);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> entry)
    {
        entry.ToTable("AuditEntries");
        entry.Property(e => e.ActorId).HasMaxLength(64);
        entry.Property(e => e.ActorEmail).HasMaxLength(256);
        entry.Property(e => e.Action).HasMaxLength(64);
        entry.Property(e => e.Target).HasMaxLength(256);
        entry.Property(e => e.Details).HasMaxLength(2000);
        entry.HasIndex(e => e.At);
        entry.HasIndex(e => new { e.Action, e.At });
    }
}
