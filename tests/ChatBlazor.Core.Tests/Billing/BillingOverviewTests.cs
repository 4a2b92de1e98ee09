using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using Microsoft.Extensions.Configuration;
using ChatBlazor.Testing;

namespace ChatBlazor.Core.Tests.Billing;

/// <summary>What the billing page reads for a user, from a real database: the period, its tokens by UTC day and by model, and a failed payment.</summary>
public sealed class BillingOverviewTests(BillingDatabase database) : IClassFixture<BillingDatabase>
{
    private static readonly PlanCatalog Catalog = PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Plans:DefaultPlan"] = "Free",
        ["Plans:Free:RequestsPerMinute"] = "1", ["Plans:Free:TokensPerMinute"] = "1", ["Plans:Free:TokensPerDay"] = "1",
        ["Plans:Pro:RequestsPerMinute"] = "2", ["Plans:Pro:TokensPerMinute"] = "2", ["Plans:Pro:TokensPerDay"] = "2",
        ["Plans:Pro:StripePriceId"] = "price_pro", ["Plans:Pro:IncludedTokens"] = "100",
    }).Build());

    private static readonly TimeSpan Grace = TimeSpan.FromDays(3);

    private BillingOverviews Overviews(DateTimeOffset now) => new(database, new UserPlans(database, Catalog), new BillingPolicy(Grace), new ClockDouble(now));

    private async Task AddAsync(params BillingAccount[] accounts)
    {
        await using var db = database.CreateDbContext();
        db.BillingAccounts.AddRange(accounts);
        await db.SaveChangesAsync();
    }

    private async Task UseAsync(string userId, params (string Source, string Model, int Prompt, int Completion, DateTimeOffset At)[] rows)
    {
        await using var db = database.CreateDbContext();
        db.UsageRecords.AddRange(rows.Select(r => new UsageRecord
        {
            UserId = userId, Source = r.Source, Model = r.Model, PromptTokens = r.Prompt, CompletionTokens = r.Completion, CreatedAt = r.At,
        }));
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task ASubscribersPeriodIsTheSubscriptionsAndItsTokensAreCountedByUtcDayAndModelWithoutTitles()
    {
        var (user, _) = await database.NewUserAsync("Pro");
        var start = new DateTimeOffset(2026, 11, 10, 15, 30, 0, TimeSpan.Zero);
        await AddAsync(new BillingAccount
        {
            CustomerId = $"cus_{Guid.NewGuid():N}", UserId = user, SubscriptionId = "sub_1", Status = "active", PriceId = "price_pro", Plan = "Pro",
            CurrentPeriodStart = start, CurrentPeriodEnd = start.AddMonths(1), UpdatedAt = start,
        });
        await UseAsync(user,
            (UsageSource.Chat, "mini", 10, 5, start.AddMinutes(-1)),                                 // before the period
            (UsageSource.Chat, "mini", 20, 10, start.AddHours(1)),                                   // 11-10 16:30 UTC
            (UsageSource.Api, "large", 40, 20, new DateTimeOffset(2026, 11, 11, 1, 0, 0, TimeSpan.FromHours(3)).ToUniversalTime()), // 11-10 22:00 UTC
            (UsageSource.Api, "mini", 30, 30, new DateTimeOffset(2026, 11, 11, 0, 0, 0, TimeSpan.Zero)),
            (UsageSource.Title, "mini", 500, 500, start.AddHours(2)),                                // the platform's, not billed
            (UsageSource.Chat, "mini", 7, 7, start.AddMonths(1)));                                   // the next period

        var overview = await Overviews(start.AddDays(2)).ForUserAsync(user);

        Assert.True(overview.IsSubscriptionPeriod);
        Assert.Equal((start, start.AddMonths(1)), (overview.PeriodStart, overview.PeriodEnd));
        Assert.Equal([new DailyTokens(new DateOnly(2026, 11, 10), 90), new DailyTokens(new DateOnly(2026, 11, 11), 60)], overview.ByDay);
        Assert.Equal([new ModelTokens("mini", 90, 2), new ModelTokens("large", 60, 1)], overview.ByModel);
        Assert.Equal(150, overview.TokensUsed);
        Assert.Equal(50, overview.TokensBeyondIncluded); // Pro includes 100
        Assert.True(overview.HasLiveSubscription);
        Assert.Null(overview.GraceDeadline);
    }

    [Fact]
    public async Task WithoutASubscriptionThePeriodIsTheCalendarMonthInUtc()
    {
        var (user, _) = await database.NewUserAsync("Free");
        await UseAsync(user,
            (UsageSource.Chat, "mini", 1, 2, new DateTimeOffset(2026, 10, 31, 23, 59, 0, TimeSpan.Zero)),
            (UsageSource.Chat, "mini", 3, 4, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)));

        var overview = await Overviews(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero)).ForUserAsync(user);

        Assert.Null(overview.Account);
        Assert.False(overview.IsSubscriptionPeriod);
        Assert.Equal((new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)),
            (overview.PeriodStart, overview.PeriodEnd));
        Assert.Equal(7, overview.TokensUsed);
        Assert.Equal("Free", overview.Plan.Name);
        Assert.Empty(overview.Invoices);
    }

    [Fact]
    public async Task AFailedPaymentIsAProblemUntilTheGracePeriodEnds()
    {
        var (user, _) = await database.NewUserAsync("Pro");
        var failed = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        await AddAsync(new BillingAccount
        {
            CustomerId = $"cus_{Guid.NewGuid():N}", UserId = user, SubscriptionId = "sub_2", Status = "past_due", PriceId = "price_pro", Plan = "Pro",
            PaymentFailedSince = failed, UpdatedAt = failed,
        });

        var during = await Overviews(failed.AddDays(1)).PaymentProblemAsync(user);
        var after = await Overviews(failed.AddDays(3)).PaymentProblemAsync(user);

        Assert.Equal(new PaymentProblem("Pro", failed, new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero)), during);
        Assert.Null(after);
        Assert.Null(await Overviews(failed).PaymentProblemAsync((await database.NewUserAsync("Pro")).Id));
    }
}
