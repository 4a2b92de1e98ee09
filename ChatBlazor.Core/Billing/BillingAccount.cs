using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Billing;

/// <summary>
/// A Stripe customer and the state of its subscription, as the last applied webhook event described it. Keyed by the
/// customer, not the user: Stripe may send a subscription's events before the checkout that names the user
/// (<c>checkout.session.completed</c>), and that state must wait here until the user is known. A user has one row:
/// linking a new customer unlinks the old one (<see cref="BillingEventApplier"/>). That is a rule of the code, not a
/// unique index, because one SaveChanges that moves the user from one row to another may write them in either order.
/// </summary>
public sealed class BillingAccount
{
    /// <summary>Stripe's customer id (cus_…).</summary>
    public required string CustomerId { get; set; }
    /// <summary>Null until a completed checkout names the user (its <c>client_reference_id</c>).</summary>
    public string? UserId { get; set; }
    public AppUser? User { get; set; }

    public string? SubscriptionId { get; set; }
    /// <summary>Stripe's subscription status: <c>active</c>, <c>trialing</c>, <c>past_due</c>, <c>canceled</c>, …; see <see cref="SubscriptionRules"/>.</summary>
    public string? Status { get; set; }
    /// <summary>The subscription's price that names a plan (<c>Plans:&lt;Name&gt;:StripePriceId</c>), else its first price.</summary>
    public string? PriceId { get; set; }
    /// <summary>The plan that price bought when the event was applied (null: a price no plan names).</summary>
    public string? Plan { get; set; }
    public DateTimeOffset? CurrentPeriodStart { get; set; }
    public DateTimeOffset? CurrentPeriodEnd { get; set; }
    public bool CancelAtPeriodEnd { get; set; }

    /// <summary>When a payment of this customer failed and none has succeeded since; the grace period runs from here.</summary>
    public DateTimeOffset? PaymentFailedSince { get; set; }

    /// <summary>
    /// The <c>created</c> time of the last subscription event applied. Stripe does not promise order: an event older
    /// than this one describes a state already replaced, and changes nothing.
    /// </summary>
    public DateTimeOffset? SubscriptionEventAt { get; set; }
    /// <summary>The same for payment events (<c>invoice.paid</c>, <c>invoice.payment_failed</c>), which set <see cref="PaymentFailedSince"/>.</summary>
    public DateTimeOffset? PaymentEventAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>PostgreSQL's xmin: two events of one customer applied at once cannot overwrite each other.</summary>
    public uint Version { get; set; }
}

internal sealed class BillingAccountConfiguration : IEntityTypeConfiguration<BillingAccount>
{
    public void Configure(EntityTypeBuilder<BillingAccount> account)
    {
        account.ToTable("BillingAccounts");
        account.HasKey(a => a.CustomerId);
        account.Property(a => a.CustomerId).HasMaxLength(255);
        account.Property(a => a.SubscriptionId).HasMaxLength(255);
        account.Property(a => a.Status).HasMaxLength(32);
        account.Property(a => a.PriceId).HasMaxLength(255);
        account.Property(a => a.Plan).HasMaxLength(32);
        account.Property(a => a.Version).IsRowVersion();
        account.HasIndex(a => a.UserId);
        // The grace-period job looks for failures older than the grace period.
        account.HasIndex(a => a.PaymentFailedSince);
        account.HasOne(a => a.User).WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.SetNull);
    }
}
