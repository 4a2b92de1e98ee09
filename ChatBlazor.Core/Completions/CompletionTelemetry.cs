using System.Diagnostics;
using System.Diagnostics.Metrics;
using ChatBlazor.Core.Limits;

namespace ChatBlazor.Core.Completions;

/// <summary>
/// What the completion pipeline reports (meter and activity source <see cref="Name"/>): replies started and how they
/// ended, time to first token, the gap between pieces of text, tokens per second, and every limit decision. Labels are
/// bounded sets only — model, source (chat, api, title), status, limit kind — never a user, key or conversation.
/// </summary>
public static class CompletionTelemetry
{
    public const string Name = "ChatBlazor.Completions";

    /// <summary>Spans <c>completion.admit</c> and <c>completion.run</c>.</summary>
    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    // Seconds, from a fast model's first token to a minute-long queue.
    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] };
    private static readonly InstrumentAdvice<double> Rates = new() { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500] };

    private static readonly Counter<long> Started = Meter.CreateCounter<long>("chatblazor.replies.started", "{reply}", "Completions that began to run, by model and source.");
    private static readonly Counter<long> Finished = Meter.CreateCounter<long>("chatblazor.replies.finished", "{reply}",
        "Completions that ended, by model, source and status (complete, length, stopped, failed, filtered).");
    private static readonly Histogram<double> FirstToken = Meter.CreateHistogram("chatblazor.reply.time_to_first_token", "s", "From the start of a run to its first piece of text.", advice: Seconds);
    private static readonly Histogram<double> InterToken = Meter.CreateHistogram("chatblazor.reply.inter_token_latency", "s", "Between consecutive pieces of a reply's text.", advice: Seconds);
    private static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram("chatblazor.reply.tokens_per_second", "{token}/s", "Generation speed of a reply after its first token.", advice: Rates);
    private static readonly Counter<long> LimitDecisions = Meter.CreateCounter<long>("chatblazor.limits.decisions", "{decision}",
        "Admission decisions of metered completions by outcome (admitted, refused) and the limit that refused.");

    internal static void ReplyStarted(string model, string source) => Started.Add(1, new("model", model), new("source", source));

    internal static void ReplyFinished(string model, string source, CompletionResult result)
    {
        var (m, s) = (new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("source", source));
        Finished.Add(1, m, s, new("status", result.Status.ToString().ToLowerInvariant()));
        if (result.TimeToFirstTokenMs is { } ms)
            FirstToken.Record(ms / 1000.0, m, s);
        if (result.TokensPerSecond is { } rate)
            TokensPerSecond.Record(rate, m, s);
    }

    internal static void TextGap(string model, string source, TimeSpan gap) => InterToken.Record(gap.TotalSeconds, new("model", model), new("source", source));

    internal static void Admitted() => LimitDecisions.Add(1, new("outcome", "admitted"), new("limit", "none"));

    /// <summary>A refusal by a rate limit (<paramref name="kind"/>), or by the reply count or request size (<paramref name="other"/>).</summary>
    internal static void Refused(LimitKind? kind, string? other = null) => LimitDecisions.Add(1, new("outcome", "refused"), new("limit", other ?? kind switch
    {
        LimitKind.RequestsPerMinute => "requests_per_minute",
        LimitKind.TokensPerMinute => "tokens_per_minute",
        LimitKind.TokensPerDay => "tokens_per_day",
        _ => "unknown",
    }));
}
