using System.Collections.Concurrent;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Web.Inference;

/// <summary>
/// Every model's live state, read every <see cref="Period"/> in the background: the embedded engine's own figures,
/// and each remote host's <c>GET /status</c>. A host without that endpoint (another OpenAI-compatible server) that
/// still lists its models is healthy with unknown figures; one that answers neither is unhealthy, and the
/// <c>auto</c> model routes around it. The hosting is resolved when the service starts, not when it is made: the host
/// makes every hosted service before starting any, and a configuration error must be reported by options validation
/// (which starts first), not hidden behind a failure to load the models.
/// </summary>
public sealed class ModelStates(IServiceProvider services, ILogger<ModelStates> log) : BackgroundService, IModelStates
{
    private readonly TimeProvider _clock = services.GetService<TimeProvider>() ?? TimeProvider.System;

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HostTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, ModelState> _states = new(StringComparer.Ordinal);

    public ModelState? StateOf(string model) => _states.GetValueOrDefault(model);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var hosting = services.GetRequiredService<ModelHosting>();
        using var timer = new PeriodicTimer(Period, _clock);
        do
        {
            try
            {
                await RefreshAsync(hosting, stoppingToken);
            }
            catch (Exception e) when (e is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "Model states could not be refreshed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RefreshAsync(ModelHosting hosting, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        var fresh = new Dictionary<string, ModelState>(StringComparer.Ordinal);
        foreach (var status in hosting.Embedded.Status())
            fresh[status.Model] = new ModelState(status.Model, true, true, status.Running, status.Waiting, status.KvCacheUsage, status.TokensPerSecond, status.TimeToFirstTokenMs, now);
        var hosts = await Task.WhenAll(hosting.Remotes.Select(host => ReadHostAsync(host, now, ct)));
        foreach (var replicas in hosts.SelectMany(states => states).GroupBy(s => s.Model, StringComparer.Ordinal))
            fresh[replicas.Key] = Merge([.. replicas]);
        foreach (var stale in _states.Keys.Except(fresh.Keys))
            _states.TryRemove(stale, out _);
        foreach (var (model, state) in fresh)
            _states[model] = state;
    }

    /// <summary>
    /// A model on several hosts as one: usable while any replica is (the router goes around the others), its queue
    /// and throughput the sums of theirs, its KV cache as full as the fullest, its first token as slow as the slowest,
    /// and a note of the replicas that are down.
    /// </summary>
    internal static ModelState Merge(IReadOnlyList<ModelState> replicas)
    {
        if (replicas.Count == 1)
            return replicas[0];
        var up = replicas.Where(s => s.Healthy).ToArray();
        var down = replicas.Where(s => !s.Healthy).ToArray();
        var note = down.Length == 0 ? null : $"{down.Length} of {replicas.Count} hosts: {down[0].Error}";
        return new ModelState(replicas[0].Model, replicas.Any(s => s.Loaded), up.Length > 0, up.Sum(s => s.Running), up.Sum(s => s.Waiting),
            up.Max(s => s.KvCacheUsage), up.Any(s => s.TokensPerSecond is not null) ? up.Sum(s => s.TokensPerSecond ?? 0) : null,
            up.Max(s => s.TimeToFirstTokenMs), replicas.Min(s => s.CheckedAt), note);
    }

    private static async Task<IEnumerable<ModelState>> ReadHostAsync(RemoteHostClient host, DateTimeOffset now, CancellationToken ct)
    {
        var models = host.Engine.Models.Select(m => m.Name).ToArray();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HostTimeout);
        try
        {
            var report = await host.Engine.StatusAsync(timeout.Token);
            return models.Select(m => report.Models.FirstOrDefault(s => s.Model == m) is { } s
                ? new ModelState(m, true, true, s.Running, s.Waiting, s.KvCacheUsage, s.TokensPerSecond, s.TimeToFirstTokenMs, now)
                : new ModelState(m, false, false, 0, 0, null, null, null, now, "the host does not serve it"));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Slower than HostTimeout: as good as down for routing, and never a reason to stop this instance.
            return models.Select(m => new ModelState(m, false, false, 0, 0, null, null, null, now, $"the host did not answer within {HostTimeout.TotalSeconds:0} s"));
        }
        catch (EngineUnavailableException)
        {
            // Not our server, or down: does it still list its models?
        }
        try
        {
            using var response = await host.Http.GetAsync("v1/models", timeout.Token);
            var error = response.IsSuccessStatusCode ? null : $"the host answered {(int)response.StatusCode}";
            return models.Select(m => new ModelState(m, error is null, error is null, 0, 0, null, null, null, now, error));
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return models.Select(m => new ModelState(m, false, false, 0, 0, null, null, null, now, "the host cannot be reached"));
        }
    }
}
