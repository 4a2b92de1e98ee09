using System.Text;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatBlazor.Core.Usage;

/// <summary>
/// Turns the usage ledger into <see cref="UsageRollup"/> rows, a whole UTC day at a time: in one transaction the day's
/// rollups are deleted and summed again from the ledger. Running a day twice gives the same rows (never double
/// counts), and a ledger row that arrived late is counted by the next run. Hangfire runs it every few minutes for
/// today and yesterday (a reply that started before midnight is settled after it); an admin can run it at once.
/// </summary>
public sealed class UsageAggregator(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, ILogger<UsageAggregator> log)
{
    /// <summary>The Hangfire recurring job's id.</summary>
    public const string JobId = "usage-rollup";

    /// <summary>Recomputes yesterday and today (UTC): the days the ledger can still be adding to.</summary>
    public async Task AggregateRecentAsync()
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        await AggregateDayAsync(today.AddDays(-1));
        await AggregateDayAsync(today);
    }

    /// <summary>Replaces the rollups of <paramref name="day"/> (UTC) with sums of the ledger; returns the rollup rows written.</summary>
    public async Task<int> AggregateDayAsync(DateOnly day, CancellationToken ct = default)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var written = await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Two instances (the schedule and the button) on one day would both delete, then both insert: one waits.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LockKey(day)})", ct);
            await db.Database.ExecuteSqlAsync($"""DELETE FROM "UsageRollups" WHERE "Day" = {day}""", ct);
            var rows = await db.Database.ExecuteSqlRawAsync(InsertSql, [
                new NpgsqlParameter("day", day), new NpgsqlParameter("start", start), new NpgsqlParameter("end", start.AddDays(1))], ct);
            var ledgerRows = await db.UsageRecords.CountAsync(u => u.CreatedAt >= start && u.CreatedAt < start.AddDays(1), ct);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "UsageRollupRuns" ("Day", "AggregatedAt", "LedgerRows") VALUES ({day}, {clock.GetUtcNow()}, {ledgerRows})
                ON CONFLICT ("Day") DO UPDATE SET "AggregatedAt" = excluded."AggregatedAt", "LedgerRows" = excluded."LedgerRows"
                """, ct);
            await transaction.CommitAsync(ct);
            return rows;
        });
        log.LogInformation("Usage of {Day} aggregated into {Rows} rollup rows", day, written);
        return written;
    }

    /// <summary>When the rollups were last recomputed (any day); null if never.</summary>
    public async Task<DateTimeOffset?> LastAggregatedAtAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.UsageRollupRuns.MaxAsync(r => (DateTimeOffset?)r.AggregatedAt, ct);
    }

    // A fixed tag in the high bits keeps these locks apart from any other advisory lock of the app.
    private static long LockKey(DateOnly day) => (0x5553_4147L << 32) | (uint)day.DayNumber;

    private static readonly string InsertSql = BuildInsertSql();

    private static string BuildInsertSql()
    {
        // One count per bucket: (bound[i-1], bound[i]], then the open one above the last bound.
        var buckets = new StringBuilder();
        var lower = -1;
        foreach (var upper in LatencyHistogram.UpperBoundsMs)
        {
            buckets.Append($"""count(*) FILTER (WHERE "LatencyMs" > {lower} AND "LatencyMs" <= {upper})::int, """);
            lower = upper;
        }
        buckets.Append($"""count(*) FILTER (WHERE "LatencyMs" > {lower})::int""");
        return $"""
            INSERT INTO "UsageRollups" ("Day", "UserId", "ApiKeyId", "Model", "Plan", "Requests", "Errors", "PromptTokens", "CompletionTokens", "LatencyBuckets", "MaxLatencyMs")
            SELECT @day, "UserId", "ApiKeyId", "Model", "Plan", count(*)::int, (count(*) FILTER (WHERE "Status" = '{nameof(CompletionStatus.Failed)}'))::int,
                   sum("PromptTokens")::bigint, sum("CompletionTokens")::bigint, ARRAY[{buckets}], max("LatencyMs")
            FROM "UsageRecords"
            WHERE "CreatedAt" >= @start AND "CreatedAt" < @end
            GROUP BY "UserId", "ApiKeyId", "Model", "Plan"
            """;
    }
}
