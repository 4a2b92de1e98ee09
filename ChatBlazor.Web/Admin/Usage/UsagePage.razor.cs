using System.Globalization;
using ChatBlazor.Core.Usage;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore.Storage;
using MudBlazor;

namespace ChatBlazor.Web.Admin.Usage;

/// <summary>
/// /admin/usage: the rollups as charts with the tables behind them, filtered by dates, model, plan and user.
/// "Aggregate now" enqueues the rollup job and the page reloads when that job has succeeded.
/// </summary>
public sealed partial class UsagePage : IDisposable
{
    /// <summary>How long the page watches for the job it enqueued before saying it has not run yet.</summary>
    private static readonly TimeSpan JobWait = TimeSpan.FromMinutes(2);

    [Inject] private UsageAnalytics Analytics { get; set; } = default!;
    [Inject] private UsageAggregator Aggregator { get; set; } = default!;
    [Inject] private UsageJobs Jobs { get; set; } = default!;
    [Inject] private Hangfire.JobStorage JobStorage { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private readonly CancellationTokenSource _disposed = new();
    private DateTime? _from, _to;
    private string? _model, _plan, _user;
    private IReadOnlyList<string> _models = [], _plans = [];
    private IReadOnlyList<TokensPerDay> _byModel = [], _byPlan = [];
    private IReadOnlyList<RequestsPerDay> _requests = [];
    private IReadOnlyList<TopUser> _topUsers = [];
    private List<ChartSeries<double>> _byModelSeries = [], _byPlanSeries = [], _requestSeries = [], _latencySeries = [];
    private string[] _labels = [];
    private DateTimeOffset? _lastAggregated;
    private bool _loaded, _aggregating;
    private string? _error;

    private bool Filtered => _model is not null || _plan is not null || !string.IsNullOrWhiteSpace(_user);

    private string AggregatedText => _lastAggregated is { } at ? $"Last aggregated {at.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : "Never aggregated";

    protected override async Task OnInitializedAsync()
    {
        var defaults = UsageAdmin.DefaultFilter(Clock);
        (_from, _to) = (defaults.From.ToDateTime(TimeOnly.MinValue), defaults.To.ToDateTime(TimeOnly.MinValue));
        await LoadAsync();
    }

    private UsageFilter Filter() => new(
        DateOnly.FromDateTime(_from ?? DateTime.UtcNow.Date), DateOnly.FromDateTime(_to ?? DateTime.UtcNow.Date),
        _model, _plan, string.IsNullOrWhiteSpace(_user) ? null : _user.Trim());

    private string CsvHref(string table)
    {
        var filter = Filter();
        var query = new Dictionary<string, object?>
        {
            ["from"] = Csv.Date(filter.From), ["to"] = Csv.Date(filter.To), ["model"] = filter.Model, ["plan"] = filter.Plan, ["user"] = filter.UserEmail,
        };
        return Navigation.GetUriWithQueryParameters($"{Navigation.BaseUri}admin/api/usage/{table}.csv", query);
    }

    private async Task SetAsync(Action change)
    {
        change();
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        var filter = Filter();
        if (filter.Problem is { } problem)
        {
            _error = problem;
            return;
        }
        try
        {
            var ct = _disposed.Token;
            _lastAggregated = await Aggregator.LastAggregatedAtAsync(ct);
            (_models, _plans) = await Analytics.ChoicesAsync(ct);
            _byModel = await Analytics.TokensByModelAsync(filter, ct);
            _byPlan = await Analytics.TokensByPlanAsync(filter, ct);
            _requests = await Analytics.RequestsAsync(filter, ct);
            var latency = await Analytics.LatencyAsync(filter, ct);
            _topUsers = await Analytics.TopUsersAsync(filter, 20, ct);
            var days = Enumerable.Range(0, filter.To.DayNumber - filter.From.DayNumber + 1).Select(filter.From.AddDays).ToArray();
            // About ten dates along the axis: a label for each of 30 or 365 days would overprint.
            var every = Math.Max(1, (days.Length + 9) / 10);
            _labels = days.Select((d, i) => i % every == 0 || i == days.Length - 1 ? d.ToString("MM-dd", CultureInfo.InvariantCulture) : "").ToArray();
            _byModelSeries = TokenSeries(_byModel, days);
            _byPlanSeries = TokenSeries(_byPlan, days);
            var requests = _requests.ToDictionary(r => r.Day);
            _requestSeries =
            [
                Series("Requests", days.Select(d => (double)(requests.GetValueOrDefault(d)?.Requests ?? 0))),
                Series("Errors", days.Select(d => (double)(requests.GetValueOrDefault(d)?.Errors ?? 0))),
            ];
            var latencies = latency.ToDictionary(l => l.Day);
            _latencySeries =
            [
                Series("p50", days.Select(d => (double)(latencies.GetValueOrDefault(d)?.P50 ?? 0))),
                Series("p95", days.Select(d => (double)(latencies.GetValueOrDefault(d)?.P95 ?? 0))),
                Series("p99", days.Select(d => (double)(latencies.GetValueOrDefault(d)?.P99 ?? 0))),
            ];
            _error = null;
            _loaded = true;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException or RetryLimitExceededException)
        {
            _error = "The database did not answer, so usage figures cannot be shown. Try again in a moment.";
        }
    }

    private async Task AggregateNowAsync()
    {
        _aggregating = true;
        try
        {
            var admin = (await AuthenticationState).User.Actor();
            var jobId = await Jobs.AggregateNowAsync(admin, _disposed.Token);
            Snackbar.Add("Aggregation queued; the charts reload when it has run.", Severity.Info);
            StateHasChanged();
            // Watch this job, not the latest run: a scheduled run that began before the click may end after it,
            // without the rows the admin is looking for.
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var deadline = Clock.GetUtcNow() + JobWait;
            while (await timer.WaitForNextTickAsync(_disposed.Token))
            {
                using var connection = JobStorage.GetConnection();
                var state = connection.GetStateData(jobId)?.Name;
                if (state == Hangfire.States.SucceededState.StateName)
                {
                    await LoadAsync();
                    return;
                }
                if (state == Hangfire.States.FailedState.StateName)
                {
                    Snackbar.Add("The aggregation failed: see the jobs dashboard. It will be retried.", Severity.Error);
                    return;
                }
                if (Clock.GetUtcNow() > deadline)
                {
                    Snackbar.Add("The aggregation has not run yet: see the jobs dashboard. The page reloads its figures on the next visit.", Severity.Warning);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // the page was left while waiting
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException or RetryLimitExceededException)
        {
            _error = "The database did not answer, so the aggregation could not be queued. Try again in a moment.";
        }
        finally
        {
            _aggregating = false;
        }
    }

    private static List<ChartSeries<double>> TokenSeries(IReadOnlyList<TokensPerDay> rows, DateOnly[] days) =>
        rows.GroupBy(r => r.Series).OrderByDescending(g => g.Sum(r => r.Tokens)).Select(g =>
        {
            var perDay = g.ToDictionary(r => r.Day, r => r.Tokens);
            return Series(g.Key, days.Select(d => (double)perDay.GetValueOrDefault(d)));
        }).ToList();

    private static ChartSeries<double> Series(string name, IEnumerable<double> values) => new() { Name = name, Data = new ChartData<double>(values.ToArray()) };

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
