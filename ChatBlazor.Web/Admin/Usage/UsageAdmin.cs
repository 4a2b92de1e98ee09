using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Usage;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatBlazor.Web.Admin.Usage;

/// <summary>The usage section of the console: its services, its recurring job, its CSV downloads.</summary>
public static class UsageAdmin
{
    /// <summary>The CSV tables, one behind each chart of the page.</summary>
    public static readonly string[] Tables = ["tokens-by-model", "tokens-by-plan", "requests", "latency", "top-users"];

    /// <summary>The range the page and the downloads show unless told otherwise: the last 30 UTC days.</summary>
    public static UsageFilter DefaultFilter(TimeProvider clock)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        return new UsageFilter(today.AddDays(-29), today);
    }

    public static void AddUsage(this WebApplicationBuilder builder)
    {
        builder.Services.AddUsageAnalytics();
        builder.Services.AddSingleton<UsageJobs>();
    }

    /// <summary>Every few minutes: the days the ledger can still be adding to, so the charts lag by minutes at most.</summary>
    public static void DeclareJobs(IRecurringJobManager jobs) =>
        jobs.AddOrUpdate<UsageAggregator>(UsageAggregator.JobId, aggregator => aggregator.AggregateRecentAsync(), "*/5 * * * *");

    public static void MapUsage(this RouteGroupBuilder admin)
    {
        admin.MapGet("/usage/{table}.csv", ExportAsync).WithName("AdminUsageCsv").WithTags("Admin");
    }

    /// <summary>GET /admin/api/usage/{table}.csv?from=yyyy-MM-dd&amp;to=…&amp;model=…&amp;plan=…&amp;user=email</summary>
    private static async Task<Results<FileContentHttpResult, NotFound<string>, BadRequest<string>>> ExportAsync(
        string table, DateOnly? from, DateOnly? to, string? model, string? plan, string? user,
        HttpContext http, UsageAnalytics analytics, UserIdHash userIds, AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        if (!Tables.Contains(table))
            return TypedResults.NotFound($"No usage table '{table}'; there are: {string.Join(", ", Tables)}.");
        var defaults = DefaultFilter(clock);
        var filter = new UsageFilter(from ?? defaults.From, to ?? defaults.To, Blank(model), Blank(plan), Blank(user));
        if (filter.Problem is { } problem)
            return TypedResults.BadRequest(problem);
        var csv = await TableAsync(table, filter, analytics, userIds, ct);
        // The download is the action: it is logged whether or not the browser keeps the file.
        await audit.WriteAsync(http.User.Actor(), AuditActions.Export, $"usage/{table}.csv",
            $"{Describe(filter)}; {csv.Rows} rows", ct);
        return TypedResults.File(csv.ToBytes(), "text/csv; charset=utf-8", $"usage-{table}-{Csv.Date(filter.From)}-{Csv.Date(filter.To)}.csv");
    }

    public static string Describe(UsageFilter filter) =>
        $"{Csv.Date(filter.From)}..{Csv.Date(filter.To)}" + (filter.Model is null ? "" : $" model={filter.Model}")
        + (filter.Plan is null ? "" : $" plan={filter.Plan}") + (filter.UserEmail is null ? "" : $" user={filter.UserEmail}");

    /// <summary>
    /// The table behind one chart, capped at <see cref="UsageAnalytics.MaxRows"/> rows. Users appear as the keyed
    /// <see cref="UserIdHash"/> (the same as in the logs), and their email only when the admin asked about one user
    /// (<c>user=email</c>): an export leaves the system, and a list of everyone's address and usage is not needed for analytics.
    /// </summary>
    public static async Task<Csv> TableAsync(string table, UsageFilter filter, UsageAnalytics analytics, UserIdHash userIds, CancellationToken ct)
    {
        switch (table)
        {
            case "tokens-by-model":
            case "tokens-by-plan":
            {
                var rows = table == "tokens-by-model" ? await analytics.TokensByModelAsync(filter, ct) : await analytics.TokensByPlanAsync(filter, ct);
                var csv = new Csv("day", table == "tokens-by-model" ? "model" : "plan", "prompt_tokens", "completion_tokens", "total_tokens");
                foreach (var r in rows.Take(UsageAnalytics.MaxRows))
                    csv.Row(Csv.Date(r.Day), Csv.Text(r.Series), Csv.Number(r.PromptTokens), Csv.Number(r.CompletionTokens), Csv.Number(r.Tokens));
                return csv;
            }
            case "requests":
            {
                var csv = new Csv("day", "requests", "errors");
                foreach (var r in (await analytics.RequestsAsync(filter, ct)).Take(UsageAnalytics.MaxRows))
                    csv.Row(Csv.Date(r.Day), Csv.Number(r.Requests), Csv.Number(r.Errors));
                return csv;
            }
            case "latency":
            {
                var csv = new Csv("day", "requests", "p50_ms", "p95_ms", "p99_ms");
                foreach (var r in (await analytics.LatencyAsync(filter, ct)).Take(UsageAnalytics.MaxRows))
                    csv.Row(Csv.Date(r.Day), Csv.Number(r.Requests), Csv.Number(r.P50), Csv.Number(r.P95), Csv.Number(r.P99));
                return csv;
            }
            case "top-users":
            {
                var csv = new Csv("user_hash", "email", "requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens");
                foreach (var u in await analytics.TopUsersAsync(filter, UsageAnalytics.MaxRows, ct))
                    csv.Row(Csv.Text(userIds.Of(u.UserId)), Csv.Text(filter.UserEmail is null ? null : u.Email), Csv.Number(u.Requests), Csv.Number(u.Errors),
                        Csv.Number(u.PromptTokens), Csv.Number(u.CompletionTokens), Csv.Number(u.Tokens));
                return csv;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(table), table, "Not a usage table.");
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>"Aggregate now": the same job as the schedule, enqueued through Hangfire so one of the job servers runs it.</summary>
public sealed class UsageJobs(IBackgroundJobClient jobs, AuditLog audit)
{
    public async Task<string> AggregateNowAsync(AuditActor admin, CancellationToken ct = default)
    {
        var id = jobs.Enqueue<UsageAggregator>(aggregator => aggregator.AggregateRecentAsync());
        await audit.WriteAsync(admin, AuditActions.UsageAggregate, UsageAggregator.JobId, $"job {id} enqueued (yesterday and today)", ct);
        return id;
    }
}
