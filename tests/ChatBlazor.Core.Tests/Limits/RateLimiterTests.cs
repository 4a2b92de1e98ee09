using ChatBlazor.Core.Limits;
using Microsoft.Extensions.Logging.Abstractions;
using ChatBlazor.Testing;

namespace ChatBlazor.Core.Tests.Limits;

/// <summary>The limiter's arithmetic on in-process counters, with a clock the test moves.</summary>
public sealed class RateLimiterTests
{
    /// <summary>Test double: a clock that stands still until the test moves it.</summary>
    private static readonly Plan _plan = new("Test", RequestsPerMinute: 3, TokensPerMinute: 1_000, TokensPerDay: 2_500, []);
    private readonly ClockDouble _clock = new(new DateTimeOffset(2026, 11, 26, 12, 30, 15, TimeSpan.Zero));
    private readonly RateLimiter _limiter;

    public RateLimiterTests() => _limiter = new(new MemoryLimitCounters(_clock), new MemoryLimitCounters(_clock), _clock, NullLogger<RateLimiter>.Instance);

    [Fact]
    public async Task AReservationHoldsItsEstimateUntilItSettlesToTheRealCount()
    {
        var subject = new LimitSubject("u1", null, _plan);

        var first = await _limiter.ReserveAsync(subject, 600);
        Assert.True(first.Admitted);
        Assert.Equal((400L, 2L), (first.Tokens.Remaining, first.Requests.Remaining));
        Assert.False((await _limiter.ReserveAsync(subject, 500)).Admitted); // 600 + 500 > 1,000 while the first runs

        await _limiter.SettleAsync(first.Reservation!, 150); // it used 150 of its 600
        var second = await _limiter.ReserveAsync(subject, 500);

        Assert.True(second.Admitted);
        Assert.Equal(1_000 - 150 - 500, second.Tokens.Remaining);
        Assert.Equal(2_500 - 650, second.DailyTokens.Remaining);
    }

    [Fact]
    public async Task RefusalsNameTheLimitAndWhenItResets()
    {
        var subject = new LimitSubject("u2", null, _plan);
        for (var i = 0; i < 3; i++)
            Assert.True((await _limiter.ReserveAsync(subject, 10)).Admitted);

        var refused = await _limiter.ReserveAsync(subject, 10);

        Assert.False(refused.Admitted);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 12, 31, 0, TimeSpan.Zero), refused.RetryAt);
        Assert.Equal("Rate limit reached for requests per minute on your account (Test plan: 3). It resets at 12:31:00 UTC, in 45 s.", refused.Refusal);

        _clock.Now = _clock.Now.AddSeconds(45); // the next minute
        Assert.True((await _limiter.ReserveAsync(subject, 10)).Admitted);
    }

    [Fact]
    public async Task TheDailyLimitOutlastsTheMinuteAndResetsAtMidnightUtc()
    {
        var subject = new LimitSubject("u3", null, _plan);
        for (var minute = 0; minute < 2; minute++, _clock.Now = _clock.Now.AddMinutes(1))
            Assert.True((await _limiter.ReserveAsync(subject, 1_000)).Admitted);
        Assert.True((await _limiter.ReserveAsync(subject, 500)).Admitted);

        var refused = await _limiter.ReserveAsync(subject, 1);

        Assert.Contains("tokens per day", refused.Refusal);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero), refused.RetryAt);
        Assert.Equal(0, (await _limiter.DailyTokensAsync("u3", _plan)).Remaining);
    }

    [Fact]
    public async Task AKeyHasItsOwnLimitsInsideItsUsersLimits()
    {
        Guid keyA = Guid.NewGuid(), keyB = Guid.NewGuid();
        Assert.True((await _limiter.ReserveAsync(new LimitSubject("u4", keyA, _plan), 900)).Admitted);

        var overUser = await _limiter.ReserveAsync(new LimitSubject("u4", keyB, _plan), 200);

        Assert.False(overUser.Admitted); // key B is fresh, but the user's minute is nearly spent
        Assert.Contains("on your account", overUser.Refusal);
        Assert.True((await _limiter.ReserveAsync(new LimitSubject("u5", keyB, _plan), 200)).Admitted);
    }
}
