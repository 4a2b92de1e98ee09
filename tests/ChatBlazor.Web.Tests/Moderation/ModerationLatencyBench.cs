using System.Diagnostics;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using ChatBlazor.Web.Tests.Api;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ChatBlazor.Web.Tests.Moderation;

/// <summary>
/// Measurements, not tests (Category=Bench; not part of ./test.sh): the input check as the pipeline runs it (the
/// shipped rules and our classifier) per chat message, and its share of the time to first token of the default model
/// (chatblazor-mini, in process) on the same messages. Run with
/// <c>dotnet test tests/ChatBlazor.Web.Tests -c Release --filter "FullyQualifiedName~ModerationLatencyBench" --logger "console;verbosity=detailed"</c>;
/// writes <c>.data/bench/moderation-pipeline.json</c>.
/// </summary>
[Trait("Category", "Bench")]
public sealed class ModerationLatencyBench(ApiTests.Factory app, ITestOutputHelper output) : IClassFixture<ApiTests.Factory>
{
    // Ordinary chat messages of the lengths people type, a few with personal data to redact.
    private static readonly string[] Messages =
    [
        "Hi!",
        "How do I kill a python process that hangs?",
        "Can you summarise the plot of Hamlet in three sentences?",
        "Write a haiku about autumn rain on a tin roof.",
        "What's the difference between a list and a tuple in Python?",
        "Please email the report to ada@example.com by Friday.",
        "My phone is +44 20 7946 0958, call me after lunch.",
        "Explain how vaccines train the immune system, simply.",
        "Translate 'where is the train station' into German and French.",
        "Give me a packing list for a three-day hiking trip in the Alps in September.",
        "What is the shooting schedule for our film usually like on a small budget?",
        "Help me plan a birthday party for a seven year old who loves dinosaurs and space.",
        "Why does my sourdough starter smell like acetone, and how do I fix it?",
        "Compare PostgreSQL and MySQL for a small web shop with about a thousand orders a day.",
        "I keep getting a NullReferenceException in my C# code when I read a dictionary value. What should I check?",
        "Draft a polite message to my landlord about a leaking tap that has not been fixed for two weeks.",
    ];

    [Fact]
    public async Task InputCheckLatencyAndItsShareOfTimeToFirstToken()
    {
        var moderation = app.Services.GetRequiredService<ModerationService>();
        var engine = app.Services.GetRequiredService<IInferenceEngine>();
        const int Rounds = 20;
        foreach (var message in Messages) // warm-up: the encoder loads on first use, the engine compiles its first steps
        {
            moderation.Check(message);
            await FirstTokenAsync(engine, message);
        }

        var checks = new List<double>();
        var rules = new List<double>();
        var firstTokens = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var message in Messages)
            {
                var start = Stopwatch.GetTimestamp();
                moderation.Check(message);
                checks.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                start = Stopwatch.GetTimestamp();
                moderation.CheckRules(message);
                rules.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                firstTokens.Add(await FirstTokenAsync(engine, message));
            }
        }

        Report("input_check_per_message", [.. checks]);
        Report("input_rules_alone_per_message", [.. rules]);
        Report("engine_time_to_first_token", [.. firstTokens]);
        var share = Median(checks) / (Median(checks) + Median(firstTokens));
        output.WriteLine($"input check share of time to first token (p50): {share:P1}; CPU: {Cpu()}");
        Assert.Equal(Rounds * Messages.Length, checks.Count);
    }

    private static async Task<double> FirstTokenAsync(IInferenceEngine engine, string message)
    {
        var request = new CompletionRequest("chatblazor-mini", SamplingParams.Greedy with { MaxTokens = 1 }, Messages: [new ChatMessage("user", message)]);
        var start = Stopwatch.GetTimestamp();
        await foreach (var chunk in engine.GenerateAsync(request))
            if (chunk.Text.Length > 0 || chunk.FinishReason is not null)
                break;
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Cpu() => File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    private void Report(string name, double[] latencies)
    {
        var summary = BenchResults.Summarize(latencies, null);
        output.WriteLine($"{name}: {summary}");
        BenchResults.Save("moderation-pipeline.json", name, summary);
    }
}
