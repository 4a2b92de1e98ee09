using System.Diagnostics;
using System.Text;
using ChatBlazor.Core.Moderation.Rules;
using ChatBlazor.Testing;
using Xunit.Abstractions;

namespace ChatBlazor.Core.Tests.Moderation;

/// <summary>
/// How long the built-in rules take on a typical 200-word message and a 4,000-word pasted document, and what the
/// streaming redactor adds per piece of a reply (figures in docs/benchmarks.md). A measurement, not a test: run with
/// <c>--filter "FullyQualifiedName~ModerationRulesBench"</c>.
/// </summary>
[Trait("Category", "Bench")]
public sealed class ModerationRulesBench(ITestOutputHelper output)
{
    // Everyday prose with the occasional number, date, version and price, and in one sentence of forty personal data.
    private static readonly string[] Sentences =
    [
        "Could you help me rewrite this paragraph so it sounds friendlier to our customers?",
        "The meeting moved to 2024-05-14 at 10:30, and the budget is $1,250.00 for the quarter.",
        "We upgraded the service to version 10.0.12 last week and the error rate dropped by 3%.",
        "Please summarise the main points of the report and list the open questions at the end.",
        "Order 1234 5678 9012 3456 shipped on Monday; tracking should update within a day.",
        "My colleague asked whether the new policy applies to contractors as well as employees.",
        "Explain the difference between a process and a thread, with a short example in C#.",
        "I need a polite reply declining the invitation because of a scheduling conflict.",
    ];

    private const string PersonalSentence = "Reach me at jane.doe@example.com or +44 20 7946 0958, card 4111 1111 1111 1111.";

    private static string Text(int words)
    {
        var text = new StringBuilder();
        for (var i = 0; CountWords(text) < words; i++)
            text.Append(i % 40 == 39 ? PersonalSentence : Sentences[i % Sentences.Length]).Append(i % 6 == 5 ? "\n\n" : " ");
        return text.ToString();
    }

    private static int CountWords(StringBuilder text) => text.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public void RulesOnAMessageAndADocument()
    {
        var detector = new RuleDetector(ModerationRules.Defaults);
        var message = Text(200);
        var document = Text(4000);
        // Tiered compilation promotes hot methods on a background thread, which lags on a loaded machine: run
        // everything a while first so the figures below are of the final code, not of the first tier.
        // (measured: without the message rounds here, the first figure taken came out three to four times slower).
        _ = Time(() => Redactor.Redact(document, detector.Detect(document)), 100);
        _ = Time(() => Redactor.Redact(message, detector.Detect(message)), 4000);

        var result = new
        {
            Cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim(),
            MessageChars = message.Length,
            DocumentChars = document.Length,
            Message = Time(() => detector.Detect(message), 2000),
            Document = Time(() => detector.Detect(document), 100),
            MessageRedact = Time(() => Redactor.Redact(message, detector.Detect(message)), 2000),
            StreamPerPiece = StreamPieces(detector, message),
            // A decoding rule is timed together with the phrase rules it runs on decoded text (they are in its figure).
            SlowestRulesOnTheDocument = ModerationRules.Defaults
                .Select(rule =>
                {
                    var alone = new RuleDetector(ModerationRules.Defaults.Where(r => r == rule || (RuleKinds.IsDecodingKind(rule.Kind) && r.Kind == RuleKinds.Phrase)));
                    return new { rule.Id, Time(() => alone.Detect(document), 20).P50Ms };
                })
                .OrderByDescending(r => r.P50Ms).Take(5).ToList(),
        };
        BenchResults.Save("moderation.json", nameof(RulesOnAMessageAndADocument), result);
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(result));
        Assert.NotEmpty(detector.Detect(document)); // the document carries personal data: the rules ran
    }

    private static BenchResults.Summary Time(Action action, int runs)
    {
        for (var i = 0; i < Math.Max(20, runs / 4); i++) action(); // tiered JIT settles before timing
        var latencies = new List<double>(runs);
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }
        return BenchResults.Summarize(latencies);
    }

    /// <summary>A 200-word reply streamed in 4-character pieces (about a token each): the time of each Push.</summary>
    private static BenchResults.Summary StreamPieces(RuleDetector detector, string reply)
    {
        var latencies = new List<double>();
        for (var round = 0; round < 20; round++)
        {
            var redactor = new StreamRedactor(detector);
            for (var i = 0; i < reply.Length; i += 4)
            {
                var piece = reply.Substring(i, Math.Min(4, reply.Length - i));
                var watch = Stopwatch.StartNew();
                redactor.Push(piece);
                if (round > 0) latencies.Add(watch.Elapsed.TotalMilliseconds);
            }
            redactor.Flush();
        }
        return BenchResults.Summarize(latencies);
    }
}
