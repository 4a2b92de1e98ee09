namespace ChatBlazor.Core.Limits;

/// <summary>One counter in one window: <paramref name="Cost"/> is added only if it stays within <paramref name="Limit"/>.</summary>
public sealed record Counter(string Key, long Limit, long Cost, DateTimeOffset WindowEnd);

/// <summary>All counters' values after an admitted reservation, or the first counter that refused and its value.</summary>
public sealed record CounterResult(bool Admitted, IReadOnlyList<long> Values, int RefusedIndex = -1);

/// <summary>
/// Where the counters live. Each call is one atomic decision over all its counters: every cost is added, or none.
/// Redis in production (<see cref="RedisLimitCounters"/>), <see cref="MemoryLimitCounters"/> while Redis is away.
/// </summary>
public interface ILimitCounters
{
    Task<CounterResult> ReserveAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default);

    /// <summary>The decision <see cref="ReserveAsync"/> would make now, adding nothing.</summary>
    Task<CounterResult> CheckAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default);

    /// <summary>Adds each delta to its counter if the counter's window is still open (a closed window is gone).</summary>
    Task SettleAsync(IReadOnlyList<(string Key, long Delta)> deltas, CancellationToken ct = default);

    Task<long> ReadAsync(string key, CancellationToken ct = default);
}

/// <summary>Counters in this process: exact here, blind to other instances (so the limiter gives it smaller limits).</summary>
public sealed class MemoryLimitCounters(TimeProvider clock) : ILimitCounters
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Value, DateTimeOffset Expires)> _counters = new(StringComparer.Ordinal);

    public Task<CounterResult> ReserveAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default) => Task.FromResult(Decide(counters, commit: true));

    public Task<CounterResult> CheckAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default) => Task.FromResult(Decide(counters, commit: false));

    private CounterResult Decide(IReadOnlyList<Counter> counters, bool commit)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            var values = counters.Select(c => Current(c.Key, now)).ToArray();
            for (var i = 0; i < counters.Count; i++)
                if (values[i] + counters[i].Cost > counters[i].Limit)
                    return new CounterResult(false, values, i);
            if (!commit)
                return new CounterResult(true, values);
            for (var i = 0; i < counters.Count; i++)
            {
                values[i] += counters[i].Cost;
                _counters[counters[i].Key] = (values[i], counters[i].WindowEnd);
            }
            if (_counters.Count > 100_000)
                foreach (var stale in _counters.Where(c => c.Value.Expires <= now).Select(c => c.Key).ToList())
                    _counters.Remove(stale);
            return new CounterResult(true, values);
        }
    }

    public Task SettleAsync(IReadOnlyList<(string Key, long Delta)> deltas, CancellationToken ct = default)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            foreach (var (key, delta) in deltas)
                if (_counters.TryGetValue(key, out var c) && c.Expires > now)
                    _counters[key] = (Math.Max(0, c.Value + delta), c.Expires);
        }
        return Task.CompletedTask;
    }

    public Task<long> ReadAsync(string key, CancellationToken ct = default)
    {
        lock (_lock)
            return Task.FromResult(Current(key, clock.GetUtcNow()));
    }

    private long Current(string key, DateTimeOffset now) => _counters.TryGetValue(key, out var c) && c.Expires > now ? c.Value : 0;
}
