using ChatBlazor.Core.Limits;
using StackExchange.Redis;

namespace ChatBlazor.Web.Limits;

/// <summary>
/// The limit counters in Redis, each decision one Lua script so it is atomic across instances: read every counter,
/// refuse if any would pass its limit, else add every cost. Keys expire when their window ends. One Redis node (the
/// keys of a decision are not in one cluster slot).
/// </summary>
internal sealed class RedisLimitCounters(IConnectionMultiplexer redis) : ILimitCounters
{
    // KEYS: the counters. ARGV: for counter i, [3i-2] limit, [3i-1] cost, [3i] window end in Unix ms.
    // Returns {admitted (1|0), refused index (0 if admitted), value of each counter (after adding, if admitted)}.
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

    public async Task<CounterResult> ReserveAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default)
    {
        var keys = counters.Select(c => (RedisKey)c.Key).ToArray();
        var args = counters.SelectMany(c => new RedisValue[] { c.Limit, c.Cost, c.WindowEnd.ToUnixTimeMilliseconds() }).ToArray();
        var reply = (RedisResult[])(await Unavailable(() => redis.GetDatabase().ScriptEvaluateAsync(ReserveScript, keys, args)))!;
        var values = reply.Skip(2).Select(v => (long)v).ToArray();
        return (long)reply[0] == 1 ? new CounterResult(true, values) : new CounterResult(false, values, (int)(long)reply[1] - 1);
    }

    public async Task SettleAsync(IReadOnlyList<(string Key, long Delta)> deltas, CancellationToken ct = default) =>
        await Unavailable(() => redis.GetDatabase().ScriptEvaluateAsync(SettleScript,
            [.. deltas.Select(d => (RedisKey)d.Key)], [.. deltas.Select(d => (RedisValue)d.Delta)]));

    public async Task<long> ReadAsync(string key, CancellationToken ct = default) =>
        (long?)await Unavailable(() => redis.GetDatabase().StringGetAsync(key)) ?? 0;

    // Redis being away is the one failure the limiter handles (by deciding in-process); it gets its own type.
    private static async Task<T> Unavailable<T>(Func<Task<T>> command)
    {
        try
        {
            return await command();
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            throw new LimitStoreUnavailableException("Redis is unreachable: " + e.Message, e);
        }
    }
}
