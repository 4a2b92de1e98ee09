using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ChatBlazor.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>
/// What telemetry costs (Category=Bench, run by <c>scripts/bench-telemetry.sh</c>, not by <c>./test.sh</c>): the same
/// app with <c>Telemetry:Enabled</c> on and off, in turns after a warm-up (off, on, on, off) so a change in the
/// machine's load falls on both alike. Each turn measures /v1 requests per second (16 clients, short replies from the paced engine double at
/// 1 ms a token) and token-to-DOM latency in Chromium (100-token replies at 20 ms a token). Results go to the test
/// output and .data/bench/telemetry.json; docs/benchmarks.md records them with the machine.
/// </summary>
[Trait("Category", "Bench")]
public sealed class TelemetryOverheadBench(ITestOutputHelper output)
{
    private const int Clients = 16, RequestsPerTurn = 800, RepliesPerTurn = 3;

    [Fact]
    public async Task RequestsPerSecondAndTokenToDomLatencyWithTelemetryOnAndOff()
    {
        var rps = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        var dom = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        // A first turn warms the process (JIT, pools) and is not counted; then off, on, on, off, so a drift of the
        // machine's load over the run falls on both alike.
        foreach (var (on, counted) in new[] { (true, false), (false, true), (true, true), (true, true), (false, true) })
        {
            var app = new ChatUiBench.PacedApp();
            app.Set("Telemetry:Enabled", on ? "true" : "false");
            app.SetPlan("Bench", requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000, tokensPerDay: 1_000_000_000);
            app.Set("Plans:Bench:ConcurrentReplies", (2 * Clients).ToString(System.Globalization.CultureInfo.InvariantCulture));
            IAsyncLifetime lifetime = app;
            await lifetime.InitializeAsync();
            try
            {
                var requestsPerSecond = await RequestsPerSecondAsync(app);
                var latencies = await TokenToDomAsync(app);
                output.WriteLine($"telemetry {(on ? "on" : "off")}{(counted ? "" : " (warm-up)")}: {requestsPerSecond:0} requests/s");
                if (counted)
                {
                    rps[on].Add(requestsPerSecond);
                    dom[on].AddRange(latencies);
                }
            }
            finally
            {
                await lifetime.DisposeAsync(); // the app, its database and its Redis keys
            }
        }

        foreach (var on in new[] { true, false })
        {
            var name = on ? "on" : "off";
            var latency = BenchResults.Summarize(dom[on]);
            var result = new { requests_per_second = rps[on].Select(r => Math.Round(r)).ToArray(), token_to_dom = latency };
            output.WriteLine($"telemetry_{name}: {System.Text.Json.JsonSerializer.Serialize(result)}");
            BenchResults.Save("telemetry.json", $"telemetry_{name}", result);
        }
        Assert.Equal(2 * RepliesPerTurn * 100, dom[true].Count);
        Assert.Equal(2 * RepliesPerTurn * 100, dom[false].Count);
    }

    /// <summary>/v1/chat/completions from <see cref="Clients"/> clients at once, after a warm-up; requests per second.</summary>
    private static async Task<double> RequestsPerSecondAsync(ChatUiBench.PacedApp app)
    {
        app.Engine.Tokens = 16;
        app.Engine.Interval = TimeSpan.FromMilliseconds(1);
        var (_, key) = await app.UserWithKeyAsync("Bench");
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var next = 0;
        async Task ClientAsync(int count)
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using var response = await http.PostAsJsonAsync("/v1/chat/completions",
                    new { model = "paced-double", messages = new[] { new { role = "user", content = $"request {next}" } }, max_tokens = 32 });
                response.EnsureSuccessStatusCode();
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => ClientAsync(Clients * 4)));
        next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => ClientAsync(RequestsPerTurn)));
        return RequestsPerTurn / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Token-to-DOM latencies of <see cref="RepliesPerTurn"/> replies in one chat, after a warm-up reply.</summary>
    private static async Task<List<double>> TokenToDomAsync(ChatUiBench.PacedApp app)
    {
        app.Engine.Tokens = 100;
        app.Engine.Interval = TimeSpan.FromMilliseconds(20);
        var page = await ChatFlowTests.SignedInPageAsync(app);
        var latencies = new List<double>();
        for (var i = -1; i < RepliesPerTurn; i++)
        {
            var message = $"reply {i} {Guid.NewGuid():N}";
            var replies = page.GetByTestId("message-assistant");
            var before = await replies.CountAsync();
            await page.EvaluateAsync(ChatUiBench.ObserveScript);
            await ChatFlowTests.SendAsync(page, message);
            await Expect(replies).ToHaveCountAsync(before + 1);
            await Expect(replies.Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 120_000 });
            if (i < 0)
                continue; // the warm-up: first circuit, JIT, pools
            var seen = await page.EvaluateAsync<Dictionary<string, double>>("() => window.__seen");
            latencies.AddRange(seen.Select(s => s.Value - app.Engine.Sent[(message, int.Parse(s.Key[1..]))]));
        }
        await page.Context.CloseAsync();
        return latencies;
    }
}
