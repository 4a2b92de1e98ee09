using ChatBlazor.Core.Usage;

namespace ChatBlazor.Core.Billing;

/// <summary>
/// What the meter bills, in one place for the job that reports it and the page that shows it: every token of a
/// completion the user asked for (prompt and completion, chat and API; not the titles the platform chose to make),
/// beyond the tokens the plan includes in a period.
/// </summary>
public static class MeteredTokens
{
    /// <summary>The ledger rows of one user that count towards the meter in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static IQueryable<UsageRecord> Billable(this IQueryable<UsageRecord> ledger, string userId, DateTimeOffset from, DateTimeOffset to) =>
        ledger.Where(u => u.UserId == userId && u.Source != UsageSource.Title && u.CreatedAt >= from && u.CreatedAt < to);

    /// <summary>The tokens the meter charges for when <paramref name="used"/> were used in a period that includes <paramref name="included"/>.</summary>
    public static long Beyond(long used, long included) => Math.Max(0, used - included);
}
