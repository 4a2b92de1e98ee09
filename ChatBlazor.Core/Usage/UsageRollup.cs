using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Usage;

/// <summary>
/// The usage ledger summed for one UTC day, user, model, plan and API key: what the usage page charts. Rows are
/// derived only: <see cref="UsageAggregator"/> replaces a whole day at once, so they can always be rebuilt from the ledger.
/// </summary>
public sealed class UsageRollup
{
    public long Id { get; set; }
    public DateOnly Day { get; set; }
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    /// <summary>Null for the chat page and titles; the key for API calls.</summary>
    public Guid? ApiKeyId { get; set; }
    public required string Model { get; set; }
    /// <summary>Null for ledger rows from before plans were recorded.</summary>
    public string? Plan { get; set; }
    public int Requests { get; set; }
    /// <summary>Completions that ended <see cref="Completions.CompletionStatus.Failed"/>.</summary>
    public int Errors { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    /// <summary>
    /// How many completions fell in each bucket of <see cref="LatencyHistogram.UpperBoundsMs"/> (one more for those above
    /// the last bound). Counts add up across rows, which averages or percentiles would not.
    /// </summary>
    public int[] LatencyBuckets { get; set; } = [];
    /// <summary>The slowest completion: the honest upper bound of the last, open bucket.</summary>
    public int MaxLatencyMs { get; set; }
}

/// <summary>When a day was last recomputed, so the page can say how fresh its figures are.</summary>
public sealed class UsageRollupRun
{
    public DateOnly Day { get; set; }
    public DateTimeOffset AggregatedAt { get; set; }
    /// <summary>Ledger rows the day had then.</summary>
    public int LedgerRows { get; set; }
}

internal sealed class UsageRollupConfiguration : IEntityTypeConfiguration<UsageRollup>
{
    public void Configure(EntityTypeBuilder<UsageRollup> rollup)
    {
        rollup.ToTable("UsageRollups");
        rollup.Property(r => r.Model).HasMaxLength(200);
        rollup.Property(r => r.Plan).HasMaxLength(32);
        // One row per group; NULLS NOT DISTINCT because a chat row (no key) or an old row (no plan) is a group too.
        rollup.HasIndex(r => new { r.Day, r.UserId, r.Model, r.Plan, r.ApiKeyId }).IsUnique().AreNullsDistinct(false);
        rollup.HasIndex(r => new { r.Day, r.Model });
        // Deleting a user deletes their usage; the ledger does the same.
        rollup.HasOne(r => r.User).WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UsageRollupRunConfiguration : IEntityTypeConfiguration<UsageRollupRun>
{
    public void Configure(EntityTypeBuilder<UsageRollupRun> run)
    {
        run.ToTable("UsageRollupRuns");
        run.HasKey(r => r.Day);
    }
}
