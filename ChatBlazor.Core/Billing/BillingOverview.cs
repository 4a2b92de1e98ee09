using ChatBlazor.Core.Data;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Billing;

/// <summary>Tokens of one UTC day of the period (prompt and completion, as the meter counts them).</summary>
public sealed record DailyTokens(DateOnly Day, long Tokens);

/// <summary>Tokens and requests of one model in the period.</summary>
public sealed record ModelTokens(string Model, long Tokens, int Requests);

/// <summary>
/// What a user's billing stands at, all from PostgreSQL: the customer linked to them (null: never subscribed), the
/// period (the subscription's, else the calendar month in UTC), the billable tokens in it by day and by model, and
/// their latest invoices, newest first.
/// </summary>
public sealed record BillingOverview(
    BillingAccount? Account, Plan Plan, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, bool IsSubscriptionPeriod,
    IReadOnlyList<DailyTokens> ByDay, IReadOnlyList<ModelTokens> ByModel, IReadOnlyList<BillingInvoice> Invoices, DateTimeOffset? GraceDeadline)
{
    public long TokensUsed => ByModel.Sum(m => m.Tokens);

    /// <summary>The tokens the meter charges for so far: those beyond what the plan includes.</summary>
    public long TokensBeyondIncluded => MeteredTokens.Beyond(TokensUsed, Plan.IncludedTokens);

    /// <summary>A subscription that is paid for or being retried: its plan changes in the customer portal, not through a new checkout.</summary>
    public bool HasLiveSubscription => SubscriptionRules.IsLive(Account?.Status);
}

/// <summary>A failed payment the user must fix before <paramref name="GraceDeadline"/> to keep <paramref name="Plan"/>.</summary>
public sealed record PaymentProblem(string Plan, DateTimeOffset FailedSince, DateTimeOffset GraceDeadline);

/// <summary>
/// Reads a user's billing for the billing page and the admin console. Only PostgreSQL: Stripe being away never
/// keeps a user from seeing their plan, usage and invoices.
/// </summary>
public sealed class BillingOverviews(IDbContextFactory<AppDbContext> dbFactory, UserPlans plans, BillingPolicy policy, TimeProvider clock)
{
    /// <summary>How many invoices the page lists; older ones are in the customer portal.</summary>
    public const int InvoiceLimit = 24;

    public async Task<BillingOverview> ForUserAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // The limits that apply to the user's requests: the plan with any admin overrides.
        var plan = await plans.ForUserAsync(userId, ct);
        var account = await AccountAsync(userId, ct);
        var (from, to, isSubscription) = Period(account, clock.GetUtcNow());

        var billable = db.UsageRecords.Billable(userId, from, to);
        var byModel = await billable.GroupBy(u => u.Model)
            .Select(g => new ModelTokens(g.Key, g.Sum(u => (long)u.PromptTokens + u.CompletionTokens), g.Count()))
            .ToListAsync(ct);
        // Days in UTC, as the period and the rollups count them: whole days since the UTC midnight the period starts in
        // (PostgreSQL's difference of two timestamptz counts days of 24 hours, whatever the session's time zone).
        var dayZero = new DateTimeOffset(from.UtcDateTime.Date, TimeSpan.Zero);
        var byDay = await billable.GroupBy(u => (u.CreatedAt - dayZero).Days)
            .Select(g => new { Day = g.Key, Tokens = g.Sum(u => (long)u.PromptTokens + u.CompletionTokens) })
            .ToListAsync(ct);
        var invoices = await db.Invoices.AsNoTracking().Where(i => i.UserId == userId)
            .OrderByDescending(i => i.CreatedAt).Take(InvoiceLimit).ToListAsync(ct);

        return new BillingOverview(account, plan, from, to, isSubscription,
            [.. byDay.Select(d => new DailyTokens(DateOnly.FromDateTime(dayZero.UtcDateTime).AddDays(d.Day), d.Tokens)).OrderBy(d => d.Day)],
            [.. byModel.OrderByDescending(m => m.Tokens).ThenBy(m => m.Model, StringComparer.Ordinal)],
            invoices, account?.PaymentFailedSince + policy.GracePeriod);
    }

    /// <summary>
    /// The user's unpaid failure, or null: one indexed read (BillingAccounts by UserId), cheap enough for every page
    /// load. Once the grace period is over the plan has gone, and there is nothing left to keep.
    /// </summary>
    public async Task<PaymentProblem?> PaymentProblemAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var failed = await db.BillingAccounts.AsNoTracking().Where(a => a.UserId == userId && a.PaymentFailedSince != null)
            .Select(a => new { a.PaymentFailedSince, a.Plan, a.Status }).FirstOrDefaultAsync(ct);
        if (failed?.PaymentFailedSince is not { } since || !SubscriptionRules.IsLive(failed.Status))
            return null;
        var deadline = since + policy.GracePeriod;
        if (deadline <= clock.GetUtcNow())
            return null;
        return new PaymentProblem(failed.Plan ?? "your plan", since, deadline);
    }

    /// <summary>The Stripe customer linked to the user (one at most: linking a new one unlinks the old), or null.</summary>
    public async Task<BillingAccount?> AccountAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.BillingAccounts.AsNoTracking().Where(a => a.UserId == userId).OrderByDescending(a => a.UpdatedAt).FirstOrDefaultAsync(ct);
    }

    /// <summary>The hosted page of the user's newest open invoice, where a failed payment is paid; null when none is open.</summary>
    public async Task<string?> OpenInvoiceUrlAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Invoices.Where(i => i.UserId == userId && i.Status == "open" && i.HostedInvoiceUrl != null)
            .OrderByDescending(i => i.CreatedAt).Select(i => i.HostedInvoiceUrl).FirstOrDefaultAsync(ct);
    }

    /// <summary>The subscription's current period while it has one and is live; otherwise the calendar month (UTC) around <paramref name="now"/>.</summary>
    public static (DateTimeOffset From, DateTimeOffset To, bool IsSubscription) Period(BillingAccount? account, DateTimeOffset now)
    {
        if (account is { CurrentPeriodStart: { } start, CurrentPeriodEnd: { } end } && SubscriptionRules.IsLive(account.Status) && end > start)
            return (start, end, true);
        var month = new DateTimeOffset(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (month, month.AddMonths(1), false);
    }
}
