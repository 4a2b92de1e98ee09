using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Billing;

/// <summary>A Stripe invoice (named apart from Stripe.net's <c>Invoice</c>) as its last applied event described it, for the billing page and the admin console.</summary>
public sealed class BillingInvoice
{
    /// <summary>Stripe's invoice id (in_…).</summary>
    public required string Id { get; set; }
    public required string CustomerId { get; set; }
    /// <summary>The customer's user; null while the customer is not yet linked to one (filled in when it is).</summary>
    public string? UserId { get; set; }
    public AppUser? User { get; set; }
    public string? SubscriptionId { get; set; }
    /// <summary>Stripe's invoice status: <c>draft</c>, <c>open</c>, <c>paid</c>, <c>uncollectible</c>, <c>void</c>.</summary>
    public required string Status { get; set; }
    /// <summary>Amounts in the currency's smallest unit (cents), as Stripe gives them.</summary>
    public long AmountDue { get; set; }
    public long AmountPaid { get; set; }
    public long Total { get; set; }
    /// <summary>ISO 4217, lower case, as Stripe gives it (<c>usd</c>).</summary>
    public required string Currency { get; set; }
    public string? HostedInvoiceUrl { get; set; }
    public string? PdfUrl { get; set; }
    public DateTimeOffset? PeriodStart { get; set; }
    public DateTimeOffset? PeriodEnd { get; set; }
    /// <summary>When Stripe created the invoice.</summary>
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The <c>created</c> time of the last event applied to this row; an older event changes nothing.</summary>
    public DateTimeOffset EventAt { get; set; }
    public uint Version { get; set; }
}

internal sealed class InvoiceConfiguration : IEntityTypeConfiguration<BillingInvoice>
{
    public void Configure(EntityTypeBuilder<BillingInvoice> invoice)
    {
        invoice.ToTable("Invoices");
        invoice.Property(i => i.Id).HasMaxLength(255);
        invoice.Property(i => i.CustomerId).HasMaxLength(255);
        invoice.Property(i => i.SubscriptionId).HasMaxLength(255);
        invoice.Property(i => i.Status).HasMaxLength(32);
        invoice.Property(i => i.Currency).HasMaxLength(8);
        invoice.Property(i => i.HostedInvoiceUrl).HasMaxLength(2048);
        invoice.Property(i => i.PdfUrl).HasMaxLength(2048);
        invoice.Property(i => i.Version).IsRowVersion();
        invoice.HasIndex(i => new { i.UserId, i.CreatedAt });
        invoice.HasIndex(i => i.CustomerId);
        invoice.HasOne(i => i.User).WithMany().HasForeignKey(i => i.UserId).OnDelete(DeleteBehavior.SetNull);
    }
}
