using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Moderation;

/// <summary>
/// What the policy does with a finding. Declared weakest first: of the actions that decide whether a message goes
/// on (<see cref="Allow"/>, <see cref="Flag"/>, <see cref="Review"/>, <see cref="Block"/>) the strongest wins;
/// <see cref="Redact"/> applies to findings in a span of the text and lets the message go on with it replaced.
/// </summary>
public enum ModerationAction { Allow, Flag, Redact, Review, Block }

public enum ModerationFlagStatus { Open, Approved, Hidden, Warned, UserSuspended }

/// <summary>Where the moderated text came from.</summary>
public enum ModerationSource { Chat, Api, OutputCheck }

public enum ModerationDirection { Input, Output }

/// <summary>
/// An admin's copy of a <see cref="ModerationRule"/>: a built-in one they changed (same <see cref="Id"/>) or one of
/// their own. The rules in force are the built-in defaults with these laid over them by id, so an empty table means
/// the defaults, and a default added by a later version appears without anyone copying it.
/// </summary>
public sealed class ModerationRuleRecord
{
    public const int MaxPatternLength = 2000;

    public required string Id { get; set; }
    public required string Category { get; set; }
    public required string Kind { get; set; }
    public string? Pattern { get; set; }
    public string? Placeholder { get; set; }
    public bool Enabled { get; set; } = true;
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The admin's email, as the audit log keeps it.</summary>
    public required string UpdatedBy { get; set; }

    public ModerationRule ToRule() => new(Id, Category, Kind, Pattern, Placeholder, Enabled);
}

/// <summary>
/// What happens to one category (<see cref="ModerationCategories.All"/>): <see cref="Action"/> when a rule finds it,
/// <see cref="ClassifierAction"/> when the classifier scores the text at or above <see cref="Threshold"/>. Two actions
/// because a rule hit is certain and a score is not: a jailbreak phrasing blocks, a jailbreak-like score goes to review.
/// A category without a row uses <see cref="ModerationPolicyDefaults"/>.
/// </summary>
public sealed class ModerationPolicyRecord
{
    public required string Category { get; set; }
    public ModerationAction Action { get; set; }
    public ModerationAction ClassifierAction { get; set; }
    /// <summary>The classifier score, in [0, 1], from which <see cref="ClassifierAction"/> applies.</summary>
    public double Threshold { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
}

/// <summary>The one row of global moderation settings.</summary>
public sealed class ModerationSettingsRecord
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    /// <summary>
    /// Whether a user's stored message keeps what they typed (true: their history reads as they wrote it) or the
    /// redacted text. The model, logs and analytics get the redacted text either way.
    /// </summary>
    public bool StoreOriginal { get; set; } = true;
    /// <summary>Violations (blocks and upheld reviews) within <see cref="SuspendWindowDays"/> that suspend a user; 0: never.</summary>
    public int SuspendAfterViolations { get; set; } = 5;
    public int SuspendWindowDays { get; set; } = 7;
    public DateTimeOffset UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
}

/// <summary>
/// One moderated message or request that was blocked, flagged or sent to review: what was found, an excerpt (with
/// personal data redacted) around it, and what an admin decided. Open flags of every action form the review queue.
/// </summary>
public sealed class ModerationFlag
{
    public const int MaxExcerptLength = 600;

    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    public Guid? ConversationId { get; set; }
    public Guid? MessageId { get; set; }
    public Guid? ApiKeyId { get; set; }
    public ModerationSource Source { get; set; }
    public ModerationDirection Direction { get; set; }
    public ModerationAction Action { get; set; }
    /// <summary>The category that decided the action.</summary>
    public string? Category { get; set; }
    /// <summary>The reason the user was (or would be) shown.</summary>
    public string Reason { get; set; } = "";
    public List<FlagFinding> Findings { get; set; } = [];
    public required string Excerpt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public ModerationFlagStatus Status { get; set; } = ModerationFlagStatus.Open;
    public string? DecidedBy { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecisionNote { get; set; }
    /// <summary>When the user closed the warning an admin gave with this flag (<see cref="ModerationFlagStatus.Warned"/>).</summary>
    public DateTimeOffset? WarningSeenAt { get; set; }
}

/// <summary>A finding as a flag keeps it (no text: the excerpt is the only text a flag stores).</summary>
public sealed class FlagFinding
{
    public required string Category { get; set; }
    public required string Rule { get; set; }
    public double Score { get; set; }
}

internal sealed class ModerationConfiguration :
    IEntityTypeConfiguration<ModerationRuleRecord>, IEntityTypeConfiguration<ModerationPolicyRecord>,
    IEntityTypeConfiguration<ModerationSettingsRecord>, IEntityTypeConfiguration<ModerationFlag>
{
    public void Configure(EntityTypeBuilder<ModerationRuleRecord> rule)
    {
        rule.ToTable("ModerationRules");
        rule.Property(r => r.Id).HasMaxLength(100);
        rule.Property(r => r.Category).HasMaxLength(64);
        rule.Property(r => r.Kind).HasMaxLength(64);
        rule.Property(r => r.Pattern).HasMaxLength(ModerationRuleRecord.MaxPatternLength);
        rule.Property(r => r.Placeholder).HasMaxLength(64);
        rule.Property(r => r.UpdatedBy).HasMaxLength(256);
    }

    public void Configure(EntityTypeBuilder<ModerationPolicyRecord> policy)
    {
        policy.ToTable("ModerationPolicies");
        policy.HasKey(p => p.Category);
        policy.Property(p => p.Category).HasMaxLength(64);
        policy.Property(p => p.Action).HasConversion<string>().HasMaxLength(16);
        policy.Property(p => p.ClassifierAction).HasConversion<string>().HasMaxLength(16);
        policy.Property(p => p.UpdatedBy).HasMaxLength(256);
    }

    public void Configure(EntityTypeBuilder<ModerationSettingsRecord> settings)
    {
        settings.ToTable("ModerationSettings");
        settings.Property(s => s.Id).ValueGeneratedNever();
        settings.Property(s => s.UpdatedBy).HasMaxLength(256);
    }

    public void Configure(EntityTypeBuilder<ModerationFlag> flag)
    {
        flag.ToTable("ModerationFlags");
        flag.Property(f => f.UserId).HasMaxLength(450);
        flag.HasOne(f => f.User).WithMany().HasForeignKey(f => f.UserId).OnDelete(DeleteBehavior.Cascade);
        // The message may be deleted with its branch; the flag stays, as the record of what happened.
        flag.HasOne<Message>().WithMany().HasForeignKey(f => f.MessageId).OnDelete(DeleteBehavior.SetNull);
        flag.Property(f => f.Source).HasConversion<string>().HasMaxLength(16);
        flag.Property(f => f.Direction).HasConversion<string>().HasMaxLength(16);
        flag.Property(f => f.Action).HasConversion<string>().HasMaxLength(16);
        flag.Property(f => f.Status).HasConversion<string>().HasMaxLength(16);
        flag.Property(f => f.Category).HasMaxLength(64);
        flag.Property(f => f.Reason).HasMaxLength(1000);
        flag.Property(f => f.Excerpt).HasMaxLength(ModerationFlag.MaxExcerptLength);
        flag.Property(f => f.DecidedBy).HasMaxLength(256);
        flag.Property(f => f.DecisionNote).HasMaxLength(1000);
        flag.OwnsMany(f => f.Findings, findings => findings.ToJson());
        // The review queue: open flags, newest first.
        flag.HasIndex(f => new { f.Status, f.CreatedAt }).IsDescending(false, true);
        // One user's violations in a window, for automatic suspension and the user's page.
        flag.HasIndex(f => new { f.UserId, f.CreatedAt });
    }
}
