using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Limits;

/// <summary>Who a request counts against: its user, and also its API key when it came with one; both under the user's plan.</summary>
public sealed record LimitSubject(string UserId, Guid? ApiKeyId, Plan Plan);

/// <summary>One limit as response headers and the chat page show it.</summary>
public sealed record LimitStatus(long Limit, long Remaining, DateTimeOffset Reset);

/// <summary>What a request reserved, to settle to its real token count when it ends.</summary>
public sealed record Reservation(IReadOnlyList<string> TokenKeys, long Tokens, bool Local);

/// <summary>The three limits of a plan.</summary>
public enum LimitKind { RequestsPerMinute, TokensPerMinute, TokensPerDay }

/// <summary>
/// Admitted (with a <see cref="Reservation"/>) or refused: <see cref="Refused"/> is the limit, <see cref="Refusal"/>
/// says which and when it resets. The statuses are the tightest over the subject's user and key.
/// </summary>
public sealed record LimitDecision(
    bool Admitted, LimitStatus Requests, LimitStatus Tokens, LimitStatus DailyTokens, Reservation? Reservation,
    LimitKind? Refused = null, string? Refusal = null, DateTimeOffset? RetryAt = null);

/// <summary>The store of counters failed (Redis away); the limiter then decides in this process.</summary>
public sealed class LimitStoreUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Requests per minute, tokens per minute and tokens per day, per user and per API key, in fixed windows (UTC
/// minutes and days). A request reserves its estimate (prompt + reply budget) before it starts, in one atomic step
/// over all its counters, and settles to the real count when it ends. While the shared store is unreachable, each
/// instance limits on its own at 1/<see cref="LocalShare"/> of every limit (other instances may be admitting too),
/// says so in the log once, and tries the shared store again every <see cref="RetrySharedAfter"/>.
/// </summary>
public sealed class RateLimiter(ILimitCounters shared, MemoryLimitCounters local, TimeProvider clock, ILogger<RateLimiter> log)
{
    public const int LocalShare = 2;
    public static readonly TimeSpan RetrySharedAfter = TimeSpan.FromSeconds(5);

    private long _sharedDownUntil; // UTC ticks; 0 while the shared store works
    private int _degraded;

    /// <summary>True while decisions are made in this process because the shared store failed.</summary>
    public bool Degraded => Volatile.Read(ref _degraded) == 1;

    public Task<LimitDecision> ReserveAsync(LimitSubject subject, long tokens, CancellationToken ct = default) => DecideAsync(subject, tokens, commit: true, ct);

    /// <summary>
    /// Whether a request of one token would be admitted now, reserving nothing: a cheap refusal, before a long prompt
    /// is tokenized, for a caller already over a limit.
    /// </summary>
    public Task<LimitDecision> CheckAsync(LimitSubject subject, CancellationToken ct = default) => DecideAsync(subject, 1, commit: false, ct);

    private async Task<LimitDecision> DecideAsync(LimitSubject subject, long tokens, bool commit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var (minute, day) = Windows(clock.GetUtcNow());
        var plan = subject.Plan;
        var counters = new List<Counter>();
        var kinds = new List<(LimitKind Kind, bool OfKey)>(); // what counters[i] counts
        foreach (var (owner, ofKey) in Owners(subject))
        {
            counters.Add(new($"{owner}:rpm:{Stamp(minute)}", plan.RequestsPerMinute, 1, minute));
            counters.Add(new($"{owner}:tpm:{Stamp(minute)}", plan.TokensPerMinute, tokens, minute));
            counters.Add(new($"{owner}:tpd:{Stamp(day)}", plan.TokensPerDay, tokens, day));
            kinds.AddRange([(LimitKind.RequestsPerMinute, ofKey), (LimitKind.TokensPerMinute, ofKey), (LimitKind.TokensPerDay, ofKey)]);
        }

        var (result, isLocal, used) = await CountAsync(counters, commit, ct);
        LimitStatus Tightest(LimitKind kind) => Enumerable.Range(0, counters.Count).Where(i => kinds[i].Kind == kind)
            .Select(i => new LimitStatus(used[i].Limit, Math.Max(0, used[i].Limit - result.Values[i]), used[i].WindowEnd))
            .MinBy(s => s.Remaining)!;
        var (requests, tokensPerMinute, daily) = (Tightest(LimitKind.RequestsPerMinute), Tightest(LimitKind.TokensPerMinute), Tightest(LimitKind.TokensPerDay));
        if (result.Admitted && !commit)
            return new LimitDecision(true, requests, tokensPerMinute, daily, null);
        if (result.Admitted)
            return new LimitDecision(true, requests, tokensPerMinute, daily, new Reservation(
                [.. Enumerable.Range(0, counters.Count).Where(i => kinds[i].Kind != LimitKind.RequestsPerMinute).Select(i => counters[i].Key)], tokens, isLocal));

        var refused = used[result.RefusedIndex];
        var (kind, refusedOnKey) = kinds[result.RefusedIndex];
        var what = kind switch { LimitKind.RequestsPerMinute => "requests per minute", LimitKind.TokensPerMinute => "tokens per minute", _ => "tokens per day" };
        var message = $"Rate limit reached for {what} on {(refusedOnKey ? "this API key" : "your account")} ({plan.Name} plan: {refused.Limit.ToString("N0", CultureInfo.InvariantCulture)}"
            + $"{(kind == LimitKind.RequestsPerMinute ? "" : $"; this request needs {tokens.ToString("N0", CultureInfo.InvariantCulture)}")})."
            + $" It resets at {refused.WindowEnd.UtcDateTime:HH:mm:ss} UTC, in {Describe(refused.WindowEnd - clock.GetUtcNow())}.";
        return new LimitDecision(false, requests, tokensPerMinute, daily, null, kind, message, refused.WindowEnd);
    }

    /// <summary>Moves the reservation to the real count (both ways). Never throws: a lost settlement only leaves the estimate.</summary>
    public async Task SettleAsync(Reservation reservation, long actualTokens)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        var delta = actualTokens - reservation.Tokens;
        if (delta == 0)
            return;
        var deltas = reservation.TokenKeys.Select(k => (k, delta)).ToList();
        try
        {
            await (reservation.Local ? local : shared).SettleAsync(deltas);
        }
        catch (LimitStoreUnavailableException e)
        {
            log.LogWarning(e, "Could not settle a reservation of {Tokens} tokens to {Actual}", reservation.Tokens, actualTokens);
        }
    }

    /// <summary>The user's tokens left today (for the chat page), from whichever store is deciding now.</summary>
    public async Task<LimitStatus> DailyTokensAsync(string userId, Plan plan, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var (_, day) = Windows(clock.GetUtcNow());
        var key = $"limits:user:{userId}:tpd:{Stamp(day)}";
        if (UseShared())
        {
            try
            {
                return new LimitStatus(plan.TokensPerDay, Math.Max(0, plan.TokensPerDay - await shared.ReadAsync(key, ct)), day);
            }
            catch (LimitStoreUnavailableException)
            {
                // as while the store is known to be away: this instance's own count
            }
        }
        var limit = Math.Max(1, plan.TokensPerDay / LocalShare);
        return new LimitStatus(limit, Math.Max(0, limit - await local.ReadAsync(key, ct)), day);
    }

    private async Task<(CounterResult Result, bool Local, IReadOnlyList<Counter> Used)> CountAsync(List<Counter> counters, bool commit, CancellationToken ct)
    {
        if (UseShared())
        {
            try
            {
                var result = commit ? await shared.ReserveAsync(counters, ct) : await shared.CheckAsync(counters, ct);
                if (Interlocked.Exchange(ref _degraded, 0) == 1)
                    log.LogWarning("Rate limits are shared again: the limit store is back");
                Volatile.Write(ref _sharedDownUntil, 0);
                return (result, false, counters);
            }
            catch (LimitStoreUnavailableException e)
            {
                Volatile.Write(ref _sharedDownUntil, (clock.GetUtcNow() + RetrySharedAfter).UtcTicks);
                if (Interlocked.Exchange(ref _degraded, 1) == 0)
                    log.LogError(e, "The limit store is unreachable: limiting in this process at 1/{Share} of each limit until it returns", LocalShare);
            }
        }
        var reduced = counters.Select(c => c with { Limit = Math.Max(1, c.Limit / LocalShare) }).ToList();
        return (commit ? await local.ReserveAsync(reduced, ct) : await local.CheckAsync(reduced, ct), true, reduced);
    }

    private bool UseShared() => clock.GetUtcNow().UtcTicks >= Volatile.Read(ref _sharedDownUntil);

    private static IEnumerable<(string Prefix, bool OfKey)> Owners(LimitSubject subject)
    {
        yield return ($"limits:user:{subject.UserId}", false);
        if (subject.ApiKeyId is { } key)
            yield return ($"limits:key:{key:N}", true);
    }

    /// <summary>The end of the UTC minute <paramref name="now"/> is in: where every per-minute window closes.</summary>
    public static DateTimeOffset MinuteEnd(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero).AddMinutes(1);
    }

    /// <summary>The ends of the current UTC minute and day.</summary>
    private static (DateTimeOffset Minute, DateTimeOffset Day) Windows(DateTimeOffset now) =>
        (MinuteEnd(now), new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1));

    private static long Stamp(DateTimeOffset windowEnd) => windowEnd.ToUnixTimeSeconds();

    private static string Describe(TimeSpan wait) =>
        wait.TotalSeconds < 90 ? $"{Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s"
        : wait.TotalMinutes < 90 ? $"{(int)Math.Ceiling(wait.TotalMinutes)} min"
        : $"{wait.TotalHours:F1} h";
}
