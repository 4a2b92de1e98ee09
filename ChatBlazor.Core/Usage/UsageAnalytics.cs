using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace ChatBlazor.Core.Usage;

/// <summary>Which rollups a chart covers: UTC days <see cref="From"/> to <see cref="To"/> inclusive, optionally one model, plan or user.</summary>
public sealed record UsageFilter(DateOnly From, DateOnly To, string? Model = null, string? Plan = null, string? UserEmail = null)
{
    /// <summary>A year of days at most: the charts plot one point per day.</summary>
    public const int MaxDays = 366;

    /// <summary>Why the filter cannot be served, or null.</summary>
    public string? Problem => To < From ? "The end date is before the start date."
        : To.DayNumber - From.DayNumber + 1 > MaxDays ? $"A range can cover at most {MaxDays} days." : null;
}

public sealed record TokensPerDay(DateOnly Day, string Series, long PromptTokens, long CompletionTokens)
{
    public long Tokens => PromptTokens + CompletionTokens;
}

public sealed record RequestsPerDay(DateOnly Day, long Requests, long Errors);

/// <summary>Latency percentiles of one day (ms, bucket upper bounds; see <see cref="LatencyHistogram"/>).</summary>
public sealed record LatencyPerDay(DateOnly Day, long Requests, int? P50, int? P95, int? P99);

public sealed record TopUser(string UserId, string? Email, long Requests, long Errors, long PromptTokens, long CompletionTokens)
{
    public long Tokens => PromptTokens + CompletionTokens;
}

/// <summary>The tables behind the usage charts, read from the rollups (never the ledger: the page stays cheap however big it grows).</summary>
public sealed class UsageAnalytics(IDbContextFactory<AppDbContext> dbFactory)
{
    /// <summary>Plan name shown for ledger rows from before plans were recorded.</summary>
    public const string NoPlan = "(none)";

    /// <summary>The most rows a table (and its CSV) holds.</summary>
    public const int MaxRows = 10_000;

    public async Task<IReadOnlyList<TokensPerDay>> TokensByModelAsync(UsageFilter filter, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Filtered(db, filter).GroupBy(r => new { r.Day, r.Model })
            .Select(g => new { g.Key.Day, g.Key.Model, Prompt = g.Sum(r => r.PromptTokens), Completion = g.Sum(r => r.CompletionTokens) })
            .ToListAsync(ct);
        return rows.Select(r => new TokensPerDay(r.Day, r.Model, r.Prompt, r.Completion))
            .OrderBy(t => t.Day).ThenBy(t => t.Series, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<TokensPerDay>> TokensByPlanAsync(UsageFilter filter, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Filtered(db, filter).GroupBy(r => new { r.Day, r.Plan })
            .Select(g => new { g.Key.Day, g.Key.Plan, Prompt = g.Sum(r => r.PromptTokens), Completion = g.Sum(r => r.CompletionTokens) })
            .ToListAsync(ct);
        return rows.Select(r => new TokensPerDay(r.Day, r.Plan ?? NoPlan, r.Prompt, r.Completion))
            .OrderBy(t => t.Day).ThenBy(t => t.Series, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<RequestsPerDay>> RequestsAsync(UsageFilter filter, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Filtered(db, filter).GroupBy(r => r.Day)
            .Select(g => new { Day = g.Key, Requests = g.Sum(r => (long)r.Requests), Errors = g.Sum(r => (long)r.Errors) })
            .ToListAsync(ct);
        return rows.Select(r => new RequestsPerDay(r.Day, r.Requests, r.Errors)).OrderBy(r => r.Day).ToList();
    }

    /// <summary>Each day's buckets summed in the database (an array column EF cannot sum), then read as percentiles.</summary>
    public async Task<IReadOnlyList<LatencyPerDay>> LatencyAsync(UsageFilter filter, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var buckets = await db.Database.SqlQueryRaw<DayBucket>("""
            SELECT r."Day", b.i::int AS "Bucket", sum(b.n)::bigint AS "Count", max(r."MaxLatencyMs") AS "MaxLatencyMs"
            FROM "UsageRollups" r
            CROSS JOIN LATERAL unnest(r."LatencyBuckets") WITH ORDINALITY AS b(n, i)
            WHERE r."Day" BETWEEN @from AND @to
              AND (@model IS NULL OR r."Model" = @model)
              AND (@plan IS NULL OR r."Plan" = @plan OR (@plan = @noPlan AND r."Plan" IS NULL))
              AND (@email IS NULL OR r."UserId" IN (SELECT u."Id" FROM "AspNetUsers" u WHERE u."NormalizedEmail" = @email))
            GROUP BY r."Day", b.i
            """,
            new NpgsqlParameter("from", filter.From), new NpgsqlParameter("to", filter.To),
            Text("model", filter.Model), Text("plan", filter.Plan), Text("noPlan", NoPlan), Text("email", filter.UserEmail?.Trim().ToUpperInvariant())).ToListAsync(ct);
        return buckets.GroupBy(b => b.Day).OrderBy(g => g.Key).Select(day =>
        {
            var counts = new long[LatencyHistogram.BucketCount];
            foreach (var b in day.Where(b => b.Bucket >= 1 && b.Bucket <= counts.Length))
                counts[b.Bucket - 1] = b.Count;
            var max = day.Max(b => b.MaxLatencyMs);
            return new LatencyPerDay(day.Key, counts.Sum(), LatencyHistogram.Percentile(counts, max, 0.50),
                LatencyHistogram.Percentile(counts, max, 0.95), LatencyHistogram.Percentile(counts, max, 0.99));
        }).ToList();
    }

    /// <summary>The users with the most tokens in the range, most first.</summary>
    public async Task<IReadOnlyList<TopUser>> TopUsersAsync(UsageFilter filter, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Filtered(db, filter).GroupBy(r => new { r.UserId, r.User!.Email })
            .Select(g => new
            {
                g.Key.UserId, g.Key.Email, Requests = g.Sum(r => (long)r.Requests), Errors = g.Sum(r => (long)r.Errors),
                Prompt = g.Sum(r => r.PromptTokens), Completion = g.Sum(r => r.CompletionTokens),
            })
            .OrderByDescending(u => u.Prompt + u.Completion).ThenBy(u => u.UserId)
            .Take(Math.Clamp(take, 1, MaxRows)).ToListAsync(ct);
        return rows.Select(u => new TopUser(u.UserId, u.Email, u.Requests, u.Errors, u.Prompt, u.Completion)).ToList();
    }

    /// <summary>The models and plans that have rollups, for the filters.</summary>
    public async Task<(IReadOnlyList<string> Models, IReadOnlyList<string> Plans)> ChoicesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var models = await db.UsageRollups.Select(r => r.Model).Distinct().OrderBy(m => m).ToListAsync(ct);
        var plans = await db.UsageRollups.Select(r => r.Plan).Distinct().ToListAsync(ct);
        return (models, plans.Select(p => p ?? NoPlan).Order(StringComparer.Ordinal).ToList());
    }

    private static IQueryable<UsageRollup> Filtered(AppDbContext db, UsageFilter filter)
    {
        var rows = db.UsageRollups.AsNoTracking().Where(r => r.Day >= filter.From && r.Day <= filter.To);
        if (!string.IsNullOrWhiteSpace(filter.Model))
            rows = rows.Where(r => r.Model == filter.Model);
        if (filter.Plan == NoPlan)
            rows = rows.Where(r => r.Plan == null);
        else if (!string.IsNullOrWhiteSpace(filter.Plan))
            rows = rows.Where(r => r.Plan == filter.Plan);
        if (!string.IsNullOrWhiteSpace(filter.UserEmail))
        {
            var normalized = filter.UserEmail.Trim().ToUpperInvariant();
            rows = rows.Where(r => r.User!.NormalizedEmail == normalized);
        }
        return rows;
    }

    private static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = string.IsNullOrWhiteSpace(value) ? DBNull.Value : value };

    private sealed record DayBucket(DateOnly Day, int Bucket, long Count, int MaxLatencyMs);
}
