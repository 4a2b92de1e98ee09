using ChatBlazor.Core.Limits;
using StackExchange.Redis;

namespace ChatBlazor.Core.Limits;

/// <summary>
/// The limit counters in Redis, each decision one Lua script so it is atomic across instances: read every counter,
/// refuse if any would pass its limit, else add every cost. Keys expire when their window ends. One Redis node (the
/// keys of a decision are not in one cluster slot).
/// </summary>
public sealed class RedisLimitCounters(IConnectionMultiplexer redis) : ILimitCounters
{
    // KEYS: the counters. ARGV: for counter i, [3i-2] limit, [3i-1] cost, [3i] window end in Unix ms; last, 1 to
    // add the costs when admitted, 0 to only decide. Returns {admitted (1|0), refused index (0 if admitted), value
    // of each counter (after adding, if added)}.
    private const string ReserveScript = """
        local values = {}
        for i, key in ipairs(KEYS) do
          values[i] = tonumber(redis.call('GET', key) or '0')
        end
        for i = 1, #KEYS do
          if values[i] + tonumber(ARGV[3 * i - 1]) > tonumber(ARGV[3 * i - 2]) then
            table.insert(values, 1, i)
            table.insert(values, 1, 0)
            return values
          end
        end
        if ARGV[#ARGV] == '0' then
          table.insert(values, 1, 0)
          table.insert(values, 1, 1)
          return values
        end
        local result = {1, 0}
        for i, key in ipairs(KEYS) do
          result[i + 2] = redis.call('INCRBY', key, ARGV[3 * i - 1])
          redis.call('PEXPIREAT', key, ARGV[3 * i])
        end
        return result
        """;

    // KEYS: counters; ARGV: a delta each. A counter whose window has closed is gone and stays gone; none goes below 0.
    private const string SettleScript = """
        for i, key in ipairs(KEYS) do
          if redis.call('EXISTS', key) == 1 then
            if redis.call('INCRBY', key, ARGV[i]) < 0 then
              redis.call('SET', key, 0, 'KEEPTTL')
            end
          end
        end
        return 0
        """;

    public Task<CounterResult> ReserveAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default) => DecideAsync(counters, commit: true);

    public Task<CounterResult> CheckAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default) => DecideAsync(counters, commit: false);

    private async Task<CounterResult> DecideAsync(IReadOnlyList<Counter> counters, bool commit)
    {
        var keys = counters.Select(c => (RedisKey)c.Key).ToArray();
        var args = counters.SelectMany(c => new RedisValue[] { c.Limit, c.Cost, c.WindowEnd.ToUnixTimeMilliseconds() }).Append(commit ? 1 : 0).ToArray();
        var reply = (RedisResult[])(await Unavailable(() => redis.GetDatabase().ScriptEvaluateAsync(ReserveScript, keys, args)))!;
        var values = reply.Skip(2).Select(v => (long)v).ToArray();
        return (long)reply[0] == 1 ? new CounterResult(true, values) : new CounterResult(false, values, (int)(long)reply[1] - 1);
    }

    public async Task SettleAsync(IReadOnlyList<(string Key, long Delta)> deltas, CancellationToken ct = default) =>
        await Unavailable(() => redis.GetDatabase().ScriptEvaluateAsync(SettleScript,
            [.. deltas.Select(d => (RedisKey)d.Key)], [.. deltas.Select(d => (RedisValue)d.Delta)]));

    public async Task<long> ReadAsync(string key, CancellationToken ct = default) =>
        (long?)await Unavailable(() => redis.GetDatabase().StringGetAsync(key)) ?? 0;

    // Redis being away is the one failure the limiter handles (by deciding in-process); it gets its own type. A
    // server that answers with an error (LOADING after a restart, OOM, READONLY on a replica) cannot count either.
    private static async Task<T> Unavailable<T>(Func<Task<T>> command)
    {
        try
        {
            return await command();
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or RedisServerException)
        {
            throw new LimitStoreUnavailableException("Redis cannot count: " + e.Message, e);
        }
    }
}
