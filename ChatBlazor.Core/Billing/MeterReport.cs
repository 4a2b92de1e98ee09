using System.Globalization;
using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Billing;

/// <summary>
/// One meter event the usage job owes Stripe: the tokens beyond a period's included amount that the ledger showed up
/// to <see cref="WindowEnd"/> and no earlier report carried. Saved before Stripe is called, so a crash between the two
/// leaves an unsent row that the next run sends again under the same <see cref="Identifier"/>, which Stripe refuses to
/// count twice. The sum of a period's rows is what the meter has been told (or will be) for that period.
/// Rows of zero tokens record that a period was seen (its first) or settled (<see cref="Final"/>); they are never sent.
/// </summary>
public sealed class MeterReport
{
    /// <summary>Stripe's meter event identifier (at most 100 characters): see <see cref="IdentifierFor"/>.</summary>
    public required string Identifier { get; set; }
    public required string UserId { get; set; }
    /// <summary>The Stripe customer billed, as the account link named it when the row was written.</summary>
    public required string CustomerId { get; set; }
    public DateTimeOffset PeriodStart { get; set; }
    public DateTimeOffset PeriodEnd { get; set; }
    /// <summary>The ledger was read up to here (exclusive) from <see cref="PeriodStart"/>.</summary>
    public DateTimeOffset WindowEnd { get; set; }
    /// <summary>
    /// The period's settling report: the ledger was read to the period's end (or to the start of a subscription that
    /// replaced it), and later runs leave the period alone.
    /// </summary>
    public bool Final { get; set; }
    /// <summary>The plan's included tokens this row was worked out against; settling a past period uses them again.</summary>
    public long IncludedTokens { get; set; }
    /// <summary>This report's value: tokens not reported before for this period.</summary>
    public long Tokens { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When Stripe accepted the event; null until then.</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>
    /// Deterministic: the user, the period, the ledger window, and the period's reported total after this row. The
    /// total keeps two reports of one window apart (ledger rows that arrived after the window was first reported), and
    /// a re-run that finds nothing new writes nothing, so no identifier is ever made twice for different tokens. A
    /// <paramref name="final"/> row of no tokens (never sent) may share its window and total with the report before
    /// it, so it says <c>_final</c>; a period has one final row.
    /// </summary>
    public static string IdentifierFor(string userId, DateTimeOffset periodStart, DateTimeOffset windowEnd, long reportedTotal, bool final = false) =>
        string.Create(CultureInfo.InvariantCulture,
            $"cbt_{userId}_{periodStart.ToUnixTimeSeconds()}_{windowEnd.ToUnixTimeSeconds()}_{reportedTotal}{(final ? "_final" : "")}");
}

internal sealed class MeterReportConfiguration : IEntityTypeConfiguration<MeterReport>
{
    public void Configure(EntityTypeBuilder<MeterReport> report)
    {
        report.ToTable("MeterReports");
        report.HasKey(r => r.Identifier);
        report.Property(r => r.Identifier).HasMaxLength(100);
        report.Property(r => r.CustomerId).HasMaxLength(255);
        // A period's reported total; the recent periods, among which the job looks for those not yet settled.
        report.HasIndex(r => new { r.UserId, r.PeriodStart });
        report.HasIndex(r => r.PeriodEnd);
        // The rows still to send.
        report.HasIndex(r => r.SentAt);
        report.HasOne<AppUser>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
