using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatBlazor.Core.Limits;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ChatBlazor.Web.Tests.Api;

/// <summary>
/// Measurements, not tests (Category=Bench; scripts/bench-api.sh runs them, ./test.sh does not): limiter decisions
/// against the local Redis, and what /v1 adds to a completion over calling the engine directly.
/// </summary>
[Trait("Category", "Bench")]
public sealed class ApiBench(ApiTests.Factory app, ITestOutputHelper output) : IClassFixture<ApiTests.Factory>
{
    [Fact]
    public async Task LimiterDecisionsPerSecondAndLatency()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        var limiter = new RateLimiter(new RedisLimitCounters(redis), new MemoryLimitCounters(TimeProvider.System), TimeProvider.System, NullLogger<RateLimiter>.Instance);
        var plan = new Plan("Bench", long.MaxValue / 4, long.MaxValue / 4, long.MaxValue / 4, []);
        foreach (var concurrency in new[] { 1, 16 })
        {
            const int PerWorker = 2_000;
            var latencies = new double[concurrency * PerWorker];
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                var subject = new LimitSubject($"bench-{w}-{Guid.NewGuid():N}", Guid.NewGuid(), plan); // user and key: 6 counters a decision
                for (var i = 0; i < PerWorker; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    var decision = await limiter.ReserveAsync(subject, 100);
                    latencies[w * PerWorker + i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    Assert.True(decision.Admitted);
                }
            })));
            Report($"limiter_concurrency_{concurrency}", latencies, clock.Elapsed);
        }
    }

    [Fact]
    public async Task ApiOverheadOverADirectEngineCall()
    {
        var (_, key) = await app.UserWithKeyAsync("Bench");
        var client = app.Client(key);
        var engine = app.Services.GetRequiredService<IInferenceEngine>();
        var body = new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 1, temperature = 0 };
        var direct = new CompletionRequest("chatblazor-mini", SamplingParams.Greedy with { MaxTokens = 1 }, Messages: [new ChatMessage("user", "Hi")]);
        const int Rounds = 150;
        var (api, engineOnly) = (new double[Rounds], new double[Rounds]);
        for (var i = -10; i < Rounds; i++) // 10 warm-up rounds, then both ways alternately
        {
            var start = Stopwatch.GetTimestamp();
            var response = await client.PostAsJsonAsync("/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadFromJsonAsync<JsonElement>();
            var apiMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            await foreach (var _ in engine.GenerateAsync(direct)) { }
            var engineMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i >= 0)
                (api[i], engineOnly[i]) = (apiMs, engineMs);
        }
        Report("api_chat_completion_1_token", api, null);
        Report("engine_direct_1_token", engineOnly, null);
        var overhead = api.Zip(engineOnly, (a, e) => a - e).ToArray();
        Report("api_overhead", overhead, null);
    }

    private void Report(string name, double[] latencies, TimeSpan? elapsed)
    {
        var summary = BenchResults.Summarize(latencies, elapsed);
        output.WriteLine($"{name}: {summary}");
        BenchResults.Save("api.json", name, summary);
    }
}
