using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ChatBlazor.Inference.Loadgen;

internal sealed record ErrorCount(string Message, int Count);

/// <summary>
/// A run's figures, defined as vLLM's benchmark_serving.py defines them so the two compare: throughputs over the
/// whole run's wall time, latencies over completed requests only.
/// </summary>
internal sealed record LoadReport(
    int Completed,
    int Failed,
    int Unfinished,
    double DurationS,
    long TotalInputTokens,
    long TotalOutputTokens,
    double RequestThroughput,
    double OutputThroughput,
    double TotalTokenThroughput,
    LatencySummary Ttft,
    LatencySummary Tpot,
    LatencySummary Itl,
    LatencySummary EndToEnd,
    IReadOnlyList<ErrorCount> Errors,
    int OutputCountedFromChunks)
{
    /// <summary>Distinct error messages kept; the rest still count in <see cref="Failed"/>.</summary>
    public const int MaxErrorMessages = 5;

    public static LoadReport From(LoadRun run)
    {
        var done = run.Results.Where(r => r is { Succeeded: true }).Select(r => r!).ToArray();
        var failed = run.Results.Where(r => r is { Succeeded: false }).Select(r => r!).ToArray();
        var errors = failed.GroupBy(r => r.Error ?? "unknown error")
            .Select(g => new ErrorCount(g.Key, g.Count()))
            .Take(MaxErrorMessages)
            .ToArray();
        long input = done.Sum(r => (long)r.PromptTokens), output = done.Sum(r => (long)r.OutputTokens);
        double PerSecond(double count) => run.DurationS > 0 ? count / run.DurationS : 0;
        return new LoadReport(
            done.Length,
            failed.Length,
            run.Results.Count(r => r is null),
            run.DurationS,
            input,
            output,
            PerSecond(done.Length),
            PerSecond(output),
            PerSecond(input + output),
            LatencySummary.FromSeconds(done.Select(r => r.TtftS!.Value)),
            LatencySummary.FromSeconds(done.Where(r => r.TpotS is not null).Select(r => r.TpotS!.Value)),
            LatencySummary.FromSeconds(done.SelectMany(r => r.InterChunkGapsS)),
            LatencySummary.FromSeconds(done.Select(r => r.LatencyS)),
            errors,
            done.Count(r => r.OutputCountedFromChunks));
    }

    /// <summary>One flat JSON object, keys named as in vLLM's saved results (<c>mean_ttft_ms</c>...).</summary>
    public string ToJson(IReadOnlyDictionary<string, object?> settings)
    {
        var json = new Dictionary<string, object?>(settings)
        {
            ["completed"] = Completed,
            ["failed"] = Failed,
            ["unfinished"] = Unfinished,
            ["duration_s"] = Round(DurationS),
            ["total_input_tokens"] = TotalInputTokens,
            ["total_output_tokens"] = TotalOutputTokens,
            ["request_throughput"] = Round(RequestThroughput),
            ["output_throughput"] = Round(OutputThroughput),
            ["total_token_throughput"] = Round(TotalTokenThroughput),
        };
        foreach (var (name, summary) in Latencies)
        {
            json[$"mean_{name}_ms"] = Round(summary.MeanMs);
            json[$"median_{name}_ms"] = Round(summary.MedianMs);
            json[$"p99_{name}_ms"] = Round(summary.P99Ms);
        }
        json["errors"] = Errors.Select(e => new Dictionary<string, object> { ["message"] = e.Message, ["count"] = e.Count }).ToArray();
        json["output_tokens_counted_from_chunks"] = OutputCountedFromChunks;
        return JsonSerializer.Serialize(json);
    }

    /// <summary>A table laid out like benchmark_serving.py's, so the two can sit side by side.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        void Row(string label, object? value) => text.AppendLine(CultureInfo.InvariantCulture, $"{label + ":",-42}{Format(value)}");
        void Rule(string title) => text.AppendLine($" {title} ".PadLeft(25 + (title.Length + 2) / 2, '-').PadRight(50, '-'));

        text.AppendLine(new string('=', 50));
        Row("Successful requests", Completed);
        Row("Failed requests", Failed);
        Row("Unfinished at the deadline", Unfinished);
        Row("Benchmark duration (s)", DurationS);
        Row("Total input tokens", TotalInputTokens);
        Row("Total generated tokens", TotalOutputTokens);
        Row("Request throughput (req/s)", RequestThroughput);
        Row("Output token throughput (tok/s)", OutputThroughput);
        Row("Total token throughput (tok/s)", TotalTokenThroughput);
        foreach (var (name, summary) in Latencies)
        {
            var upper = name.ToUpperInvariant();
            Rule(name switch { "ttft" => "Time to First Token", "tpot" => "Time per Output Token (excl. 1st token)", "itl" => "Inter-token Latency", _ => "End-to-end Latency" });
            Row($"Mean {upper} (ms)", summary.MeanMs);
            Row($"Median {upper} (ms)", summary.MedianMs);
            Row($"P99 {upper} (ms)", summary.P99Ms);
        }
        if (Errors.Count > 0)
        {
            Rule("Errors");
            foreach (var error in Errors)
                text.AppendLine(CultureInfo.InvariantCulture, $"{error.Count,6} × {error.Message}");
        }
        if (OutputCountedFromChunks > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"note: {OutputCountedFromChunks} responses had no usage; their output tokens were counted one per chunk");
        text.Append(new string('=', 50));
        return text.ToString();
    }

    private IEnumerable<(string Name, LatencySummary Summary)> Latencies =>
        [("ttft", Ttft), ("tpot", Tpot), ("itl", Itl), ("e2el", EndToEnd)];

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;

    private static string Format(object? value) => value switch
    {
        null => "n/a",
        double d => d.ToString("F2", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
