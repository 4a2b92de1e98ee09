using System.Globalization;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Limits;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Billing;

namespace ChatBlazor.Web.Billing;

/// <summary>
/// The Hangfire job that turns the usage ledger into Stripe meter events (<c>Stripe:MeterEventName</c>), every five
/// minutes. Each run works from the start of the period, not from where the last run stopped: what the meter is owed
/// is the period's tokens beyond the plan's included amount (<see cref="MeteredTokens"/>) minus what earlier reports
/// carried (<see cref="MeterReport"/>). So a ledger row that is written late, with an earlier time, is counted by the
/// next run and never skipped; and a run that finds nothing new writes nothing, so re-runs never bill twice.
/// A report is saved before Stripe is called and marked sent only once Stripe accepted it; a crash in between
/// resends it under the same identifier, which Stripe does not count twice.
/// </summary>
public sealed class UsageMetering(
    IDbContextFactory<AppDbContext> dbFactory, StripeClient stripe, PlanCatalog catalog, IOptions<StripeOptions> options, TimeProvider clock,
    ILogger<UsageMetering> log)
{
    /// <summary>The ledger is read in windows of this size: one report per user per window at most, in the usual case.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How far behind the clock the ledger is read. A ledger row is stamped before its transaction commits; a minute
    /// lets rows being written now land before their window is read. A row later than that is still counted, by the
    /// next run (see above), in a later window.
    /// </summary>
    public static readonly TimeSpan SettleDelay = TimeSpan.FromMinutes(1);

    /// <summary>How old a meter event's timestamp may be for Stripe to accept it.</summary>
    private static readonly TimeSpan StripeBackdateLimit = TimeSpan.FromDays(35);

    /// <summary>Stripe's default payload keys of a meter (<c>customer_mapping</c> and <c>value_settings</c>), which ChatBlazor's meter keeps.</summary>
    private const string CustomerKey = "stripe_customer_id", ValueKey = "value";

    /// <summary>Writes what the ledger owes the meter, then sends every report not yet accepted.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public async Task RunAsync(CancellationToken ct = default)
    {
        await ReportAsync(ct);
        await SendAsync(ct);
    }

    /// <summary>Adds the reports owed as of now, saved before anything is sent.</summary>
    private async Task ReportAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var readTo = now - SettleDelay;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var accounts = await db.BillingAccounts.AsNoTracking()
            .Where(a => a.UserId != null && a.CurrentPeriodStart != null && a.CurrentPeriodEnd != null).ToListAsync(ct);
        var currentStart = accounts.GroupBy(a => a.UserId!).ToDictionary(g => g.Key, g => g.Max(a => a.CurrentPeriodStart!.Value));

        // Periods not yet read to their end whose time is up: the subscription rolled over (or ended, or a new one
        // began) since the last run. Settling them first reports the tokens of their last minutes inside them, with
        // their own included amount and customer, whatever the account says now. A new subscription that began
        // before the old period's end cuts it there, so no ledger row is counted in two periods.
        // Stripe refuses events older than 35 days, so periods that ended before that are past settling (and unread).
        var open = await db.MeterReports.Where(r => r.PeriodEnd > now - StripeBackdateLimit)
            .GroupBy(r => new { r.UserId, r.PeriodStart, r.PeriodEnd })
            .Where(g => g.Count(r => r.Final) == 0).Select(g => g.Key).ToListAsync(ct);
        foreach (var period in open)
        {
            var next = currentStart.TryGetValue(period.UserId, out var start) && start > period.PeriodStart ? start : (DateTimeOffset?)null;
            if (next is null && period.PeriodEnd > readTo)
                continue; // still running
            var last = await db.MeterReports.AsNoTracking().Where(r => r.UserId == period.UserId && r.PeriodStart == period.PeriodStart)
                .OrderByDescending(r => r.WindowEnd).ThenByDescending(r => r.CreatedAt).FirstAsync(ct);
            var end = next < period.PeriodEnd ? next.Value : period.PeriodEnd;
            await OweAsync(db, period.UserId, last.CustomerId, period.PeriodStart, period.PeriodEnd, last.IncludedTokens, end, final: true, now, ct);
        }
        // Saved before the current periods are read: an account's period may be one just settled (its renewal not yet applied).
        await db.SaveChangesAsync(ct);

        foreach (var account in accounts)
        {
            if (!SubscriptionRules.IsLive(account.Status) || catalog.ForStripePrice(account.PriceId) is not { StripeMeteredPriceId: not null } plan)
                continue;
            var (start, end) = (account.CurrentPeriodStart!.Value, account.CurrentPeriodEnd!.Value);
            var windowEnd = Floor(readTo) < end ? Floor(readTo) : end;
            if (windowEnd <= start)
                continue; // the period has just begun: no window of it is settled yet
            await OweAsync(db, account.UserId!, account.CustomerId, start, end, plan.IncludedTokens, windowEnd, final: windowEnd == end, now, ct);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Adds the report one user's period is owed when the ledger is read from its start to <paramref name="windowEnd"/>:
    /// the tokens beyond the included amount that earlier reports did not carry. A period's first report and its
    /// <paramref name="final"/> one are written even with no tokens (and never sent): they are how later runs know
    /// which periods exist and which are settled. Tokens found after the final report are still reported.
    /// </summary>
    private static async Task OweAsync(AppDbContext db, string userId, string customerId, DateTimeOffset start, DateTimeOffset end, long included,
        DateTimeOffset windowEnd, bool final, DateTimeOffset now, CancellationToken ct)
    {
        var reports = await db.MeterReports.Where(r => r.UserId == userId && r.PeriodStart == start)
            .Select(r => new { r.Tokens, r.Final }).ToListAsync(ct);
        var reported = reports.Sum(r => r.Tokens);
        var used = await db.UsageRecords.Billable(userId, start, windowEnd).SumAsync(u => (long)u.PromptTokens + u.CompletionTokens, ct);
        var owed = MeteredTokens.Beyond(used, included) - reported;
        var settles = final && !reports.Any(r => r.Final);
        if (owed <= 0 && reports.Count > 0 && !settles)
            return;
        var tokens = Math.Max(owed, 0);
        db.MeterReports.Add(new MeterReport
        {
            Identifier = MeterReport.IdentifierFor(userId, start, windowEnd, reported + tokens, final: settles && tokens == 0),
            UserId = userId,
            CustomerId = customerId,
            PeriodStart = start,
            PeriodEnd = end,
            WindowEnd = windowEnd,
            Final = settles,
            IncludedTokens = included,
            Tokens = tokens,
            CreatedAt = now,
            // Nothing to bill: a bookkeeping row, never sent.
            SentAt = tokens == 0 ? now : null,
        });
    }

    /// <summary>
    /// Sends every unsent report, oldest first, each marked sent as soon as Stripe accepted it. A failure leaves its
    /// report unsent and the others go on; the run then fails so Hangfire records it and retries, and every later run
    /// sends what is still unsent, under the same identifiers.
    /// </summary>
    private async Task SendAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var unsent = await db.MeterReports.Where(r => r.SentAt == null)
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.WindowEnd).ThenBy(r => r.Identifier).ToListAsync(ct);
        var events = new MeterEventService(stripe);
        var failures = new List<Exception>();
        foreach (var report in unsent)
        {
            try
            {
                await events.CreateAsync(new MeterEventCreateOptions
                {
                    EventName = options.Value.MeterEventName,
                    Identifier = report.Identifier,
                    Payload = new Dictionary<string, string>
                    {
                        [CustomerKey] = report.CustomerId,
                        [ValueKey] = report.Tokens.ToString(CultureInfo.InvariantCulture),
                    },
                    // Inside the window's period, so Stripe bills the tokens in that period even when sent after it.
                    // Stripe refuses timestamps older than StripeBackdateLimit: a report unsent that long needs a person.
                    Timestamp = report.WindowEnd.AddSeconds(-1).UtcDateTime,
                }, cancellationToken: ct);
            }
            catch (StripeException e) when (e.HttpStatusCode == System.Net.HttpStatusCode.BadRequest && e.StripeError?.Code == "resource_already_exists")
            {
                // Stripe has this identifier already: an earlier run sent it and stopped before marking it.
                log.LogInformation("Meter event {Identifier} was accepted before; marking it sent", report.Identifier);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogWarning("Meter event {Identifier} ({Tokens} tokens of customer {CustomerId}) was not sent: {Reason}; the next run sends it again",
                    report.Identifier, report.Tokens, report.CustomerId, e.Message);
                failures.Add(e);
                continue;
            }
            report.SentAt = clock.GetUtcNow();
            await db.SaveChangesAsync(ct);
        }
        if (failures.Count > 0)
            throw new AggregateException(
                $"{failures.Count} of {unsent.Count} meter events were not accepted by Stripe; they stay unsent and the next run sends them again.", failures);
    }

    /// <summary>The start of the <see cref="Window"/> that <paramref name="time"/> falls in.</summary>
    private static DateTimeOffset Floor(DateTimeOffset time)
    {
        var seconds = time.ToUnixTimeSeconds();
        return DateTimeOffset.FromUnixTimeSeconds(seconds - seconds % (long)Window.TotalSeconds);
    }
}
