using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatBlazor.Core.Tests.Usage;

/// <summary>The rollups against a real PostgreSQL: sums checked against figures the test adds up itself.</summary>
public sealed class UsageAggregatorTests(UsageDatabase database) : IClassFixture<UsageDatabase>
{
    private readonly UsageAggregator _aggregator = new(database, TimeProvider.System, NullLogger<UsageAggregator>.Instance);
    private readonly UsageAnalytics _analytics = new(database);

    // Each test takes days of its own, so tests of the class never see each other's rows.
    private static DateOnly Day(int n) => new(2026, 3, n);
    private static DateTimeOffset At(DateOnly day, int hour, int minute = 0, int second = 0, int ms = 0) =>
        new DateTimeOffset(day.ToDateTime(new TimeOnly(hour, minute, second, ms)), TimeSpan.Zero);

    private static UsageRecord Row(string user, DateTimeOffset at, string model, string? plan, Guid? key, int prompt, int completion, int latencyMs,
        CompletionStatus status = CompletionStatus.Complete) => new()
    {
        UserId = user, CreatedAt = at, Model = model, Plan = plan, ApiKeyId = key, PromptTokens = prompt, CompletionTokens = completion,
        LatencyMs = latencyMs, Status = status, Source = key is null ? UsageSource.Chat : UsageSource.Api,
    };

    private async Task AddAsync(params UsageRecord[] rows)
    {
        await using var db = database.CreateDbContext();
        db.UsageRecords.AddRange(rows);
        await db.SaveChangesAsync();
    }

    private async Task<List<UsageRollup>> RollupsAsync(DateOnly day)
    {
        await using var db = database.CreateDbContext();
        return await db.UsageRollups.AsNoTracking().Where(r => r.Day == day)
            .OrderBy(r => r.UserId).ThenBy(r => r.Model).ThenBy(r => r.Plan).ThenBy(r => r.ApiKeyId).ToListAsync();
    }

    [Fact]
    public async Task ADayIsSummedPerUserModelPlanAndKeyWithErrorsAndLatencyBuckets()
    {
        var day = Day(10);
        var (ada, bob) = (await database.NewUserAsync(), await database.NewUserAsync());
        var key = Guid.NewGuid();
        await AddAsync(
            // Ada, chat, Pro: three rows, one failed; latencies in buckets ≤50, ≤100 and (100, 200].
            Row(ada, At(day, 0), "mini", "Pro", null, 10, 20, 40),
            Row(ada, At(day, 9, 30), "mini", "Pro", null, 5, 0, 100, CompletionStatus.Failed),
            Row(ada, At(day, 23, 59, 59, 999), "mini", "Pro", null, 7, 8, 101),
            // Ada with a key: a group of its own.
            Row(ada, At(day, 12), "mini", "Pro", key, 100, 200, 250_000),
            // Bob without a plan (an old row), and on another model.
            Row(bob, At(day, 8), "mini", null, null, 3, 4, 1_000),
            Row(bob, At(day, 8, 1), "mini", null, null, 30, 40, 1_001),
            Row(bob, At(day, 13), "big", "Free", null, 1, 2, 3),
            // Outside the day on both sides: never counted in it.
            Row(ada, At(day.AddDays(-1), 23, 59, 59, 999), "mini", "Pro", null, 1000, 1000, 1),
            Row(ada, At(day.AddDays(1), 0), "mini", "Pro", null, 1000, 1000, 1));

        var written = await _aggregator.AggregateDayAsync(day);

        var rollups = await RollupsAsync(day);
        Assert.Equal(4, written);
        Assert.Equal(4, rollups.Count);
        var adaChat = rollups.Single(r => r.UserId == ada && r.ApiKeyId is null);
        Assert.Equal(("mini", "Pro", 3, 1, 22L, 28L, 101), (adaChat.Model, adaChat.Plan, adaChat.Requests, adaChat.Errors, adaChat.PromptTokens, adaChat.CompletionTokens, adaChat.MaxLatencyMs));
        Assert.Equal([1, 1, 1], adaChat.LatencyBuckets.Take(3));
        Assert.Equal(3, adaChat.LatencyBuckets.Sum());
        var adaKey = rollups.Single(r => r.UserId == ada && r.ApiKeyId == key);
        Assert.Equal((1, 0, 100L, 200L), (adaKey.Requests, adaKey.Errors, adaKey.PromptTokens, adaKey.CompletionTokens));
        Assert.Equal(1, adaKey.LatencyBuckets[^1]); // above the last bound (120 s)
        var bobMini = rollups.Single(r => r.UserId == bob && r.Model == "mini");
        Assert.Equal((null as string, 2, 33L, 44L, 1_001), (bobMini.Plan, bobMini.Requests, bobMini.PromptTokens, bobMini.CompletionTokens, bobMini.MaxLatencyMs));
        Assert.Equal(LatencyHistogram.BucketCount, bobMini.LatencyBuckets.Length);
        var bobBig = rollups.Single(r => r.UserId == bob && r.Model == "big");
        Assert.Equal(("Free", 1, 1L, 2L), (bobBig.Plan, bobBig.Requests, bobBig.PromptTokens, bobBig.CompletionTokens));
    }

    [Fact]
    public async Task AggregatingADayAgainCountsNothingTwiceAndALateRowIsCountedByTheNextRun()
    {
        var day = Day(15);
        var ada = await database.NewUserAsync();
        await AddAsync(Row(ada, At(day, 1), "mini", "Pro", null, 10, 20, 40), Row(ada, At(day, 2), "mini", "Pro", null, 1, 2, 60));
        await _aggregator.AggregateDayAsync(day);
        var first = await RollupsAsync(day);

        await _aggregator.AggregateDayAsync(day);
        var second = await RollupsAsync(day);

        var only = Assert.Single(second);
        Assert.Equal((2, 11L, 22L), (only.Requests, only.PromptTokens, only.CompletionTokens));
        Assert.Equal(first.Select(r => (r.Requests, r.PromptTokens, r.CompletionTokens, string.Join(',', r.LatencyBuckets))),
            second.Select(r => (r.Requests, r.PromptTokens, r.CompletionTokens, string.Join(',', r.LatencyBuckets))));

        await AddAsync(Row(ada, At(day, 23), "mini", "Pro", null, 100, 200, 40));
        await _aggregator.AggregateDayAsync(day);

        var late = Assert.Single(await RollupsAsync(day));
        Assert.Equal((3, 111L, 222L), (late.Requests, late.PromptTokens, late.CompletionTokens));
    }

    [Fact]
    public async Task TwoRunsOfOneDayAtOnceLeaveOneSetOfRows()
    {
        var day = Day(20);
        var ada = await database.NewUserAsync();
        await AddAsync(Row(ada, At(day, 1), "mini", "Pro", null, 10, 20, 40), Row(ada, At(day, 2), "other", "Pro", null, 1, 2, 60));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _aggregator.AggregateDayAsync(day)));

        var rollups = await RollupsAsync(day);
        Assert.Equal(2, rollups.Count);
        Assert.Equal(33, rollups.Sum(r => r.PromptTokens + r.CompletionTokens));
        await using var db = database.CreateDbContext();
        Assert.Equal(2, (await db.UsageRollupRuns.SingleAsync(r => r.Day == day)).LedgerRows);
    }

    [Fact]
    public async Task ChartsSumRollupsAndMergeLatencyBucketsAcrossRows()
    {
        var day = Day(25);
        var (ada, bob) = (await database.NewUserAsync(), await database.NewUserAsync());
        // 100 completions: 90 at 40 ms (Ada), 9 at 400 ms and 1 at 9 s (Bob): p50 ≤ 50 ms, p95 ≤ 500 ms, p99 ≤ 500 ms.
        await AddAsync([
            .. Enumerable.Range(0, 90).Select(i => Row(ada, At(day, 1, i % 60), "mini", null, null, 1, 1, 40)),
            .. Enumerable.Range(0, 9).Select(i => Row(bob, At(day, 2, i), "mini", "Pro", null, 2, 3, 400)),
            Row(bob, At(day, 3), "big", "Pro", null, 5, 5, 9_000, CompletionStatus.Failed)]);
        await _aggregator.AggregateDayAsync(day);
        var all = new UsageFilter(day, day);

        var latency = Assert.Single(await _analytics.LatencyAsync(all));
        var byPlan = await _analytics.TokensByPlanAsync(all);
        var requests = Assert.Single(await _analytics.RequestsAsync(all));
        var top = await _analytics.TopUsersAsync(all, 10);
        var bobsOnly = await _analytics.TokensByModelAsync(all with { UserEmail = (await EmailOfAsync(bob)).ToUpperInvariant() });

        Assert.Equal((100L, 50, 500, 500), (latency.Requests, latency.P50, latency.P95, latency.P99));
        Assert.Equal([(UsageAnalytics.NoPlan, 180L), ("Pro", 55L)], byPlan.Select(t => (t.Series, t.Tokens)));
        Assert.Equal((100L, 1L), (requests.Requests, requests.Errors));
        Assert.Equal([(ada, 180L), (bob, 55L)], top.Select(u => (u.UserId, u.Tokens)));
        Assert.Equal([("big", 10L), ("mini", 45L)], bobsOnly.Select(t => (t.Series, t.Tokens)));
        var withoutPlan = Assert.Single(await _analytics.LatencyAsync(all with { Plan = UsageAnalytics.NoPlan }));
        Assert.Equal((90L, 40), (withoutPlan.Requests, withoutPlan.P99)); // all in the first bucket, none slower than 40 ms
    }

    private async Task<string> EmailOfAsync(string userId)
    {
        await using var db = database.CreateDbContext();
        return (await db.Users.SingleAsync(u => u.Id == userId)).Email!;
    }
}
