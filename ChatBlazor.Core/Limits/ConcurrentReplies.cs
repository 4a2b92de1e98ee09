using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatBlazor.Core.Limits;

/// <summary>
/// How many completions a user has running, across every instance, against their plan's ConcurrentReplies. One Redis
/// sorted set per user: members are completion ids, scores the end of their lease. Whoever runs a completion renews
/// its lease while it runs, so one whose instance died frees its place when the lease runs out instead of holding it
/// for ever. While Redis cannot answer, completions are let through (logged): this is a fairness guard, and the
/// rate limiter still limits each instance on its own meanwhile.
/// </summary>
public sealed class ConcurrentReplies(IConnectionMultiplexer redis, TimeProvider clock, ILogger<ConcurrentReplies> log)
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    // KEYS[1]: the user's set. ARGV: now (ms), lease end (ms), member, limit. A member already in keeps its place.
    private const string AcquireScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
          redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
          redis.call('PEXPIREAT', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    /// <summary>Takes a place for <paramref name="completionId"/>; false when the user already has <paramref name="limit"/> running.</summary>
    public async Task<bool> TryAcquireAsync(string userId, Guid completionId, int limit)
    {
        var now = clock.GetUtcNow();
        try
        {
            return (long)await redis.GetDatabase().ScriptEvaluateAsync(AcquireScript, [Key(userId)],
                [now.ToUnixTimeMilliseconds(), (now + Lease).ToUnixTimeMilliseconds(), completionId.ToString("N"), limit]) == 1;
        }
        catch (Exception e) when (e is RedisException)
        {
            log.LogWarning(e, "Concurrent replies of user {UserId} not counted: Redis cannot answer", userId);
            return true;
        }
    }

    /// <summary>Extends the lease of a running completion; one already released stays released.</summary>
    public Task RenewAsync(string userId, Guid completionId) => TryAsync(db =>
    {
        var end = clock.GetUtcNow() + Lease;
        return Task.WhenAll(db.SortedSetAddAsync(Key(userId), completionId.ToString("N"), end.ToUnixTimeMilliseconds(), SortedSetWhen.Exists),
            db.KeyExpireAsync(Key(userId), end.UtcDateTime));
    });

    public Task ReleaseAsync(string userId, Guid completionId) =>
        TryAsync(db => db.SortedSetRemoveAsync(Key(userId), completionId.ToString("N")));

    public async Task<long> RunningAsync(string userId)
    {
        var db = redis.GetDatabase();
        return await db.SortedSetLengthAsync(Key(userId), clock.GetUtcNow().ToUnixTimeMilliseconds(), double.PositiveInfinity);
    }

    private async Task TryAsync(Func<IDatabase, Task> command)
    {
        try
        {
            await command(redis.GetDatabase());
        }
        catch (Exception e) when (e is RedisException)
        {
            log.LogWarning(e, "A concurrent-reply lease was not updated: Redis cannot answer; it runs out by itself");
        }
    }

    private static RedisKey Key(string userId) => $"limits:user:{userId}:replies";
}
