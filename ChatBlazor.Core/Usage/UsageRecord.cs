using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Usage;

/// <summary>
/// One completion, from the chat page or the API: who, with which key, which model, how many tokens, how long, how
/// it ended. The ledger billing reads; rows are only ever added, one per completion.
/// </summary>
public sealed class UsageRecord
{
    public long Id { get; set; }
    /// <summary>The completion this row settles (a chat reply's id): a second settlement of it adds nothing.</summary>
    public Guid? CompletionId { get; set; }
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    public Guid? ApiKeyId { get; set; }
    /// <summary>One of <see cref="UsageSource"/>.</summary>
    public required string Source { get; set; }
    public required string Model { get; set; }
    /// <summary>The caller's plan when the completion ran (null in rows from before plans were recorded).</summary>
    public string? Plan { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int LatencyMs { get; set; }
    /// <summary>How it ended: one of the final <see cref="CompletionStatus"/> values.</summary>
    public CompletionStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

public static class UsageSource
{
    public const string Chat = "chat";
    public const string Api = "api";
    /// <summary>The model naming a conversation after its first reply: work the platform chose to do, not metered.</summary>
    public const string Title = "title";
}

internal sealed class UsageRecordConfiguration : IEntityTypeConfiguration<UsageRecord>
{
    public void Configure(EntityTypeBuilder<UsageRecord> usage)
    {
        usage.ToTable("UsageRecords");
        usage.Property(u => u.Source).HasMaxLength(8);
        usage.Property(u => u.Model).HasMaxLength(200);
        usage.Property(u => u.Plan).HasMaxLength(32);
        usage.Property(u => u.Status).HasConversion<string>().HasMaxLength(16);
        usage.HasIndex(u => u.CompletionId).IsUnique();
        // Per user over time (billing, the usage page); the key is kept when a key is deleted, for the record.
        usage.HasIndex(u => new { u.UserId, u.CreatedAt });
        usage.HasIndex(u => new { u.ApiKeyId, u.CreatedAt });
        usage.HasOne(u => u.User).WithMany().HasForeignKey(u => u.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
