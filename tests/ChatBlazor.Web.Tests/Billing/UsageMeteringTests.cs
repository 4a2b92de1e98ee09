using ChatBlazor.Core.Usage;
using ChatBlazor.Web.Billing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Stripe;
using ChatBlazor.Testing;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// The usage meter job against the real database and the real emulator, with the clock moved by hand. Every expected
/// meter value is worked out here from the ledger rows the test wrote (their tokens, minus the 1 000 Pro includes),
/// and read back from the emulator's meter (event summaries): the ledger's sum and the meter's sum agree.
/// </summary>
public sealed class UsageMeteringTests : IAsyncLifetime
{
    // A database per test: the job reads every account, and another test's customers do not exist in this test's emulator.
    private readonly BillingJobsDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();
    public Task DisposeAsync() => _database.DisposeAsync();

    private const long Included = 1000;
    private static readonly DateTimeOffset P0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset P1 = P0.AddMonths(1), P2 = P1.AddMonths(1);

    private UsageMetering Job(StripeClient client, ClockDouble clock) => new(_database, client, BillingJobsDatabase.Catalog,
        Options.Create(new StripeOptions()), clock, NullLogger<UsageMetering>.Instance);

    /// <summary>The emulator's meter and a customer on it, linked to a new Pro user for the period [P0, P1).</summary>
    private async Task<(string UserId, string CustomerId, string MeterId)> ProUserAsync(EmulatorServer emulator, string? meterId = null)
    {
        meterId ??= (await new Stripe.Billing.MeterService(emulator.Client).CreateAsync(new Stripe.Billing.MeterCreateOptions
        {
            DisplayName = "Tokens",
            EventName = new StripeOptions().MeterEventName,
            DefaultAggregation = new Stripe.Billing.MeterDefaultAggregationOptions { Formula = "sum" },
        })).Id;
        var customer = await new CustomerService(emulator.Client).CreateAsync(new CustomerCreateOptions { Email = "pro@example.com" });
        var user = await _database.NewUserAsync();
        await _database.LinkAsync(user, customer.Id, BillingJobsDatabase.ProPrice, P0, P1);
        return (user, customer.Id, meterId);
    }

    /// <summary>What the emulator's meter holds for the customer with timestamps in [from, to).</summary>
    private static async Task<decimal> MeterSumAsync(EmulatorServer emulator, string meterId, string customerId, DateTimeOffset from, DateTimeOffset to)
    {
        var summaries = await new Stripe.Billing.MeterEventSummaryService(emulator.Client).ListAsync(meterId, new Stripe.Billing.MeterEventSummaryListOptions
        {
            Customer = customerId, StartTime = from.UtcDateTime, EndTime = to.UtcDateTime,
        });
        return summaries.Data.Sum(s => s.AggregatedValue);
    }

    [Fact]
    public async Task TheMeterSumsTheLedgerBeyondTheIncludedTokensIncludingARowWrittenLateWithAnEarlierTime()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var clock = new ClockDouble(P0.AddMinutes(32));
        var job = Job(emulator.Client, clock);

        await _database.LedgerAsync(user, P0.AddMinutes(10), 400, 200);
        await _database.LedgerAsync(user, P0.AddMinutes(20), 500, 200);
        await _database.LedgerAsync(user, P0.AddMinutes(31).AddSeconds(30), 50, 50); // after the settle delay: a later window
        await job.RunAsync();
        var afterFirst = await MeterSumAsync(emulator, meter, customer, P0, P1);
        // Written after the first run, stamped before it read: only a run that starts from the period's start sees it.
        await _database.LedgerAsync(user, P0.AddMinutes(15), 300, 200);
        await _database.LedgerAsync(user, P0.AddHours(5), 1000, 1000);
        clock.Now = P0.AddHours(6);
        await job.RunAsync();

        Assert.Equal(600 + 700 - Included, afterFirst);
        var ledger = 600 + 700 + 100 + 500 + 2000;
        Assert.Equal(ledger - Included, await MeterSumAsync(emulator, meter, customer, P0, P1));
        var reports = await _database.ReportsAsync(user);
        Assert.All(reports, r => Assert.NotNull(r.SentAt));
        Assert.Equal(ledger - Included, reports.Sum(r => r.Tokens));
        Assert.Equal(reports.Count, reports.Select(r => r.Identifier).Distinct().Count());
    }

    [Fact]
    public async Task RunningAgainAddsNothingToTheMeter()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var clock = new ClockDouble(P0.AddHours(2));
        var job = Job(emulator.Client, clock);
        await _database.LedgerAsync(user, P0.AddMinutes(30), 1200, 300);
        await job.RunAsync();
        var reports = await _database.ReportsAsync(user);

        await job.RunAsync();
        clock.Now = P0.AddHours(3);
        await job.RunAsync();

        Assert.Equal(1500 - Included, await MeterSumAsync(emulator, meter, customer, P0, P1));
        Assert.Equal(reports.Select(r => r.Identifier), (await _database.ReportsAsync(user)).Select(r => r.Identifier));
    }

    [Fact]
    public async Task AReportStripeAcceptedButNotMarkedSentIsSentAgainAndCountedOnce()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var clock = new ClockDouble(P0.AddHours(2));
        await _database.LedgerAsync(user, P0.AddMinutes(30), 1200, 300);
        await Job(emulator.Client, clock).RunAsync();
        // The crash: Stripe accepted the event, the process died before saving SentAt.
        await using (var db = _database.CreateDbContext())
            Assert.Equal(1, await db.MeterReports.Where(r => r.UserId == user && r.Tokens > 0).ExecuteUpdateAsync(r => r.SetProperty(x => x.SentAt, (DateTimeOffset?)null)));

        await Job(emulator.Client, clock).RunAsync();

        Assert.Equal(1500 - Included, await MeterSumAsync(emulator, meter, customer, P0, P1));
        Assert.All(await _database.ReportsAsync(user), r => Assert.NotNull(r.SentAt));
    }

    [Fact]
    public async Task WithStripeUnreachableTheJobFailsKeepsItsReportsAndTheNextRunSendsThem()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var clock = new ClockDouble(P0.AddHours(2));
        await _database.LedgerAsync(user, P0.AddMinutes(30), 1200, 300);

        await Assert.ThrowsAsync<AggregateException>(() => Job(EmulatorServer.Unreachable(), clock).RunAsync());
        var unsent = (await _database.ReportsAsync(user)).Where(r => r.Tokens > 0).ToList();
        await _database.LedgerAsync(user, P0.AddHours(2).AddMinutes(10), 100, 100);
        clock.Now = P0.AddHours(3);
        await Job(emulator.Client, clock).RunAsync();

        Assert.Equal(1500 - Included, Assert.Single(unsent).Tokens);
        Assert.Null(unsent[0].SentAt);
        Assert.Equal(1700 - Included, await MeterSumAsync(emulator, meter, customer, P0, P1));
        Assert.All(await _database.ReportsAsync(user), r => Assert.NotNull(r.SentAt));
    }

    [Fact]
    public async Task TitlesAndOtherUsersTokensAreNotCounted()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var (other, otherCustomer, _) = await ProUserAsync(emulator, meter);
        var unlinked = await _database.NewUserAsync();
        await _database.LedgerAsync(user, P0.AddMinutes(10), 700, 200, UsageSource.Chat);
        await _database.LedgerAsync(user, P0.AddMinutes(11), 250, 50, UsageSource.Api);
        await _database.LedgerAsync(user, P0.AddMinutes(12), 4000, 1000, UsageSource.Title);
        await _database.LedgerAsync(other, P0.AddMinutes(13), 1000, 500);
        await _database.LedgerAsync(unlinked, P0.AddMinutes(14), 9000, 9000);

        await Job(emulator.Client, new ClockDouble(P0.AddHours(1))).RunAsync();

        Assert.Equal(900 + 300 - Included, await MeterSumAsync(emulator, meter, customer, P0, P1));
        Assert.Equal(1500 - Included, await MeterSumAsync(emulator, meter, otherCustomer, P0, P1));
        Assert.Empty(await _database.ReportsAsync(unlinked));
    }

    [Fact]
    public async Task ARolloverReportsTheOldPeriodsLastMinutesInsideIt()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var clock = new ClockDouble(P1.AddMinutes(-3));
        // Within the included tokens until the period's last minutes.
        await _database.LedgerAsync(user, P0.AddDays(3), 600, 200);
        await Job(emulator.Client, clock).RunAsync();
        await _database.LedgerAsync(user, P1.AddMinutes(-2), 300, 200);
        await _database.LedgerAsync(user, P1.AddSeconds(-1), 100, 0);
        // The renewal's webhook moves the account on before the job runs again.
        await _database.RollOverAsync(customer, P1, P2);
        await _database.LedgerAsync(user, P1.AddMinutes(2), 50, 50);
        clock.Now = P1.AddMinutes(8);

        await Job(emulator.Client, clock).RunAsync();

        Assert.Equal(800 + 500 + 100 - Included, await MeterSumAsync(emulator, meter, customer, P0, P1));
        Assert.Equal(0, await MeterSumAsync(emulator, meter, customer, P1, P2));
        var reports = await _database.ReportsAsync(user);
        Assert.Single(reports, r => r.PeriodStart == P0 && r.WindowEnd == P1 && r.Final);
        Assert.Contains(reports, r => r.PeriodStart == P1 && r.Tokens == 0);
    }

    [Fact]
    public async Task ANewSubscriptionBeforeThePeriodsEndSettlesTheOldPeriodAtItsStartAndCountsNoRowTwice()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var restart = P0.AddDays(12);
        var clock = new ClockDouble(P0.AddDays(10));
        await _database.LedgerAsync(user, P0.AddDays(1), 1000, 500);
        await Job(emulator.Client, clock).RunAsync();
        await _database.LedgerAsync(user, P0.AddDays(11), 200, 100);
        // Canceled, then subscribed again: the new subscription's period starts mid-way through the old one.
        await _database.RollOverAsync(customer, restart, restart.AddMonths(1));
        await _database.LedgerAsync(user, P0.AddDays(13), 1000, 200);
        clock.Now = P0.AddDays(14);

        await Job(emulator.Client, clock).RunAsync();

        Assert.Equal(1500 + 300 - Included, await MeterSumAsync(emulator, meter, customer, P0, restart));
        Assert.Equal(1200 - Included, await MeterSumAsync(emulator, meter, customer, restart, restart.AddMonths(1)));
        Assert.Single(await _database.ReportsAsync(user), r => r.PeriodStart == P0 && r.Final && r.WindowEnd == restart);
    }

    [Fact]
    public async Task APeriodReadUpToTheNewSubscriptionsStartIsSettledThereWithNothingMore()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (user, customer, meter) = await ProUserAsync(emulator);
        var restart = P0.AddDays(12);
        await _database.LedgerAsync(user, P0.AddDays(1), 1000, 500);
        // The run just after the new subscription began, before its webhook moved the account: it reads to its start.
        var clock = new ClockDouble(restart.AddMinutes(2));
        await Job(emulator.Client, clock).RunAsync();
        await _database.RollOverAsync(customer, restart, restart.AddMonths(1));
        clock.Now = restart.AddMinutes(7);

        await Job(emulator.Client, clock).RunAsync();

        Assert.Equal(1500 - Included, await MeterSumAsync(emulator, meter, customer, P0, restart));
        var old = (await _database.ReportsAsync(user)).Where(r => r.PeriodStart == P0).ToList();
        Assert.Equal([(restart, false, 500L), (restart, true, 0L)], old.Select(r => (r.WindowEnd, r.Final, r.Tokens)));
    }

    [Fact]
    public async Task UsersWithoutAMeteredPlanAreNotReportedAndStripeIsNotCalled()
    {
        var user = await _database.NewUserAsync();
        var canceled = await _database.NewUserAsync();
        await _database.LinkAsync(user, $"cus_{Guid.NewGuid():N}", BillingJobsDatabase.BasicPrice, P0, P1);
        await _database.LinkAsync(canceled, $"cus_{Guid.NewGuid():N}", BillingJobsDatabase.ProPrice, P0, P1, status: "canceled");
        await _database.LedgerAsync(user, P0.AddMinutes(10), 50_000, 50_000);
        await _database.LedgerAsync(canceled, P0.AddMinutes(10), 50_000, 50_000);

        // Nothing listens at this client's address: any call to Stripe would fail the run.
        await Job(EmulatorServer.Unreachable(), new ClockDouble(P0.AddHours(1))).RunAsync();

        Assert.Empty(await _database.ReportsAsync(user));
        Assert.Empty(await _database.ReportsAsync(canceled));
    }
}
