using System.Diagnostics;
using ChatBlazor.Core.Usage;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace ChatBlazor.Core.Tests.Usage;

/// <summary>
/// How long one day's rollup and the page's queries take on a busy day's ledger (figures in docs/benchmarks.md).
/// A measurement, not a test: run with <c>--filter Category=Bench</c>.
/// </summary>
[Trait("Category", "Bench")]
public sealed class UsageRollupBench(UsageDatabase database, ITestOutputHelper output) : IClassFixture<UsageDatabase>
{
    private const int Users = 2_000, LedgerRows = 200_000;

    [Fact]
    public async Task RollupOfADayAndThePageQueries()
    {
        var day = new DateOnly(2026, 4, 1);
        await using (var db = database.CreateDbContext())
        {
            db.Database.SetCommandTimeout(TimeSpan.FromMinutes(5));
            db.Users.AddRange(Enumerable.Range(1, Users).Select(i => new Identity.AppUser
            {
                Id = $"bench-{i}", UserName = $"bench-{i}", Email = $"bench-{i}@example.com", NormalizedEmail = $"BENCH-{i}@EXAMPLE.COM",
            }));
            await db.SaveChangesAsync();
            // Three models, two plans, a key on a third of the rows, latencies spread over 0–20 s, one in fifty failed.
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "UsageRecords" ("UserId", "ApiKeyId", "Source", "Model", "Plan", "PromptTokens", "CompletionTokens", "LatencyMs", "Status", "CreatedAt")
                SELECT 'bench-' || (1 + i % {Users}), CASE WHEN i % 3 = 0 THEN md5('key' || (i % {Users}))::uuid END, 'api',
                       (ARRAY['mini', 'medium', 'large'])[1 + i % 3], (ARRAY['Free', 'Pro'])[1 + (i / 7) % 2], 20 + i % 500, 10 + i % 300,
                       (i * 7919) % 20000, CASE WHEN i % 50 = 0 THEN 'Failed' ELSE 'Complete' END,
                       {new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)} + (i % 86400) * interval '1 second'
                FROM generate_series(1, {LedgerRows}) i
                """);
        }
        var aggregator = new UsageAggregator(database, TimeProvider.System, NullLogger<UsageAggregator>.Instance);
        var analytics = new UsageAnalytics(database);
        var filter = new UsageFilter(day.AddDays(-29), day);

        var rollup = new List<double>();
        int rows = 0;
        for (var run = 0; run < 5; run++)
        {
            var watch = Stopwatch.StartNew();
            rows = await aggregator.AggregateDayAsync(day);
            rollup.Add(watch.Elapsed.TotalMilliseconds);
        }
        var page = new List<double>();
        for (var run = 0; run < 5; run++)
        {
            var watch = Stopwatch.StartNew();
            await analytics.TokensByModelAsync(filter);
            await analytics.TokensByPlanAsync(filter);
            await analytics.RequestsAsync(filter);
            await analytics.LatencyAsync(filter);
            await analytics.TopUsersAsync(filter, 20);
            page.Add(watch.Elapsed.TotalMilliseconds);
        }

        var result = new { LedgerRows, RollupRows = rows, Rollup = BenchResults.Summarize(rollup), PageQueries = BenchResults.Summarize(page) };
        BenchResults.Save("usage.json", nameof(RollupOfADayAndThePageQueries), result);
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(result));
        Assert.True(rows > Users); // users × models × plans × keys: many groups per user
    }
}
