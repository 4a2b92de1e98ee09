using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Billing;

/// <summary>
/// A Stripe event that was applied. Written in the same transaction as the event's effect, so a redelivery (Stripe
/// retries, and may send an event twice) finds it and does nothing, and an effect is never saved without it.
/// </summary>
public sealed class BillingEventRecord
{
    /// <summary>Stripe's event id (evt_…).</summary>
    public required string Id { get; set; }
    public required string Type { get; set; }
    /// <summary>The event's own <c>created</c> time.</summary>
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    /// <summary>What applying it did (<see cref="BillingOutcome"/>), for whoever investigates a customer's billing.</summary>
    public required string Outcome { get; set; }
}

internal sealed class BillingEventRecordConfiguration : IEntityTypeConfiguration<BillingEventRecord>
{
    public void Configure(EntityTypeBuilder<BillingEventRecord> record)
    {
        record.ToTable("BillingEvents");
        record.Property(e => e.Id).HasMaxLength(255);
        record.Property(e => e.Type).HasMaxLength(100);
        record.Property(e => e.Outcome).HasMaxLength(16);
        record.HasIndex(e => e.ReceivedAt);
    }
}
