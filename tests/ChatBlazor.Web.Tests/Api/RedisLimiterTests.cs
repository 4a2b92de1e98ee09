using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatBlazor.Core.Limits;
using ChatBlazor.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ChatBlazor.Web.Tests.Api;

/// <summary>The limiter on a real Redis: exact under concurrency, and what happens when Redis goes away and comes back.</summary>
public class RedisLimiterTests
{
    private static readonly Plan _ten = new("Ten", RequestsPerMinute: 10, TokensPerMinute: 1_000_000, TokensPerDay: 10_000_000, []);

    private static RateLimiter Limiter(IConnectionMultiplexer redis, TimeProvider? clock = null) =>
        new(new RedisLimitCounters(redis), new MemoryLimitCounters(clock ?? TimeProvider.System), clock ?? TimeProvider.System, NullLogger<RateLimiter>.Instance);

    [Fact]
    public async Task FiftyParallelRequestsAgainstALimitOfTenAdmitExactlyTen()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        // Two limiters, as two web instances would have, sharing one Redis.
        var clock = new FrozenClock(); // all 50 in one minute window, whenever the test runs
        RateLimiter[] instances = [Limiter(redis, clock), Limiter(redis, clock)];
        var subject = new LimitSubject($"parallel-{Guid.NewGuid():N}", null, _ten);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => instances[i % 2].ReserveAsync(subject, 100))));

        Assert.Equal(10, decisions.Count(d => d.Admitted));
        Assert.All(decisions.Where(d => !d.Admitted), d => Assert.Contains("requests per minute", d.Refusal));
    }

    [Fact]
    public async Task SettlementMovesTheSharedCountersBothWays()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        var limiter = Limiter(redis, new FrozenClock());
        var user = $"settle-{Guid.NewGuid():N}";

        var first = await limiter.ReserveAsync(new LimitSubject(user, null, _ten), 500);
        await limiter.SettleAsync(first.Reservation!, 120);
        var second = await limiter.ReserveAsync(new LimitSubject(user, null, _ten), 30);
        await limiter.SettleAsync(second.Reservation!, 80); // used more than it reserved

        Assert.Equal(200, _ten.TokensPerDay - (await limiter.DailyTokensAsync(user, _ten)).Remaining);
    }

    /// <summary>
    /// Test double: a clock that stands still (as <see cref="FrozenClock"/>, so the counts never straddle two minute
    /// windows) and moves only by what the test adds.
    /// </summary>
    private sealed class ShiftedClock : TimeProvider
    {
        private readonly DateTimeOffset _start = new FrozenClock().GetUtcNow();
        public TimeSpan Shift { get; set; }
        public override DateTimeOffset GetUtcNow() => _start + Shift;
    }

    [Fact]
    public async Task WhileRedisIsDownLimitsHoldPerInstanceAtHalfAndTheSharedCountersReturnWithRedis()
    {
        var port = FreePort();
        using var server = StartRedis(port);
        var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        // Connected before the test goes on (reconnecting later is automatic either way); generous timeouts, as the
        // whole suite shares two cores.
        (options.AbortOnConnectFail, options.ConnectTimeout, options.AsyncTimeout) = (true, 10_000, 5_000);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var clock = new ShiftedClock();
        var limiter = Limiter(redis, clock);
        var subject = new LimitSubject($"outage-{Guid.NewGuid():N}", null, _ten);
        Assert.True((await limiter.ReserveAsync(subject, 1)).Admitted);
        Assert.False(limiter.Degraded);

        server.Process.Kill();
        await server.Process.WaitForExitAsync();
        var during = new List<LimitDecision>();
        for (var i = 0; i < 7; i++)
            during.Add(await limiter.ReserveAsync(subject, 1));

        Assert.True(limiter.Degraded);
        Assert.Equal(5, during.Count(d => d.Admitted)); // half of 10 in this instance
        Assert.All(during, d => Assert.Equal(5, d.Requests.Limit));

        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        redis.ConnectionRestored += (_, _) => restored.TrySetResult();
        using var again = StartRedis(port);
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(60)); // the client reconnects by itself
        await redis.GetDatabase().PingAsync(); // and answers
        clock.Shift = RateLimiter.RetrySharedAfter; // the limiter tries Redis again after this long

        var after = await limiter.ReserveAsync(subject, 1);
        Assert.False(limiter.Degraded);
        // Shared again (the full limit of 10); this Redis started empty, so this is its first request of the minute.
        Assert.Equal((true, 10L, 9L), (after.Admitted, after.Requests.Limit, after.Requests.Remaining));
    }

    [Fact]
    public async Task ARedisThatAnswersWithAnErrorIsTreatedAsDown()
    {
        // A replica whose primary is gone answers every write with READONLY (as LOADING after a restart, or OOM, would).
        var port = FreePort();
        using var server = StartRedis(port, "--replicaof 127.0.0.1 1");
        var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        (options.AbortOnConnectFail, options.ConnectTimeout, options.AsyncTimeout) = (true, 10_000, 5_000);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var limiter = Limiter(redis, new FrozenClock());
        var subject = new LimitSubject($"readonly-{Guid.NewGuid():N}", null, _ten);

        var decisions = new List<LimitDecision>();
        for (var i = 0; i < 7; i++)
            decisions.Add(await limiter.ReserveAsync(subject, 1));

        Assert.True(limiter.Degraded);
        Assert.Equal(5, decisions.Count(d => d.Admitted)); // limited in this process, at half, instead of failing
        await limiter.SettleAsync(decisions[0].Reservation!, 0); // and settling does not throw either
    }

    /// <summary>A Redis of this test's own (the shared test Redis must stay up for the others); killed when disposed.</summary>
    private sealed class RedisServer(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill();
            Process.WaitForExit();
            Process.Dispose();
        }
    }

    /// <summary>Starts redis-server on the port and returns once it says it is ready.</summary>
    private static RedisServer StartRedis(int port, string extraArguments = "")
    {
        var server = new RedisServer(Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no {extraArguments}")
            { RedirectStandardOutput = true, UseShellExecute = false })!);
        while (server.Process.StandardOutput.ReadLine() is { } line)
            if (line.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                _ = server.Process.StandardOutput.ReadToEndAsync(); // keep its pipe drained
                return server;
            }
        server.Dispose();
        throw new InvalidOperationException($"redis-server on port {port} exited before it was ready.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
