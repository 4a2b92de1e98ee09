using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatBlazor.Core.Replies;

/// <summary>
/// What the reply job bus reports (meter and activity source <see cref="Name"/>): how long a job waited in the Redis
/// stream before a worker claimed it, and the jobs running in this instance. A reply's trace crosses the bus: the
/// job carries the W3C <c>traceparent</c> of <c>reply.enqueue</c>, and <c>reply.run</c> on whichever instance claims
/// it continues that trace.
/// </summary>
public static class ReplyTelemetry
{
    public const string Name = "ChatBlazor.Replies";

    public static readonly ActivitySource Source = new(Name);

    /// <summary>Spans (never metrics: it is unbounded) name the reply they work on.</summary>
    public const string ReplyIdTag = "chatblazor.reply_id";

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> Wait = Meter.CreateHistogram("chatblazor.reply_jobs.wait", "s",
        "From a job's enqueue to its claim by a worker (claim: new, or takeover of a job whose worker went silent).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    private static readonly UpDownCounter<long> Running = Meter.CreateUpDownCounter<long>("chatblazor.reply_jobs.running", "{job}", "Reply jobs running in this instance.");

    /// <summary>Starts <c>reply.enqueue</c>; its <see cref="Activity.Id"/> (W3C) is the <c>traceparent</c> the job carries. Null when nothing listens.</summary>
    internal static Activity? StartEnqueue(Guid replyId)
    {
        var activity = Source.StartActivity("reply.enqueue", ActivityKind.Producer);
        activity?.SetTag(ReplyIdTag, replyId);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.destination.name", "replies:jobs");
        return activity;
    }

    /// <summary>
    /// Starts <c>reply.run</c> as a child of the enqueuing span (<paramref name="traceParent"/>, from the job), so the
    /// trace continues on whichever instance claimed it; records how long the job waited.
    /// </summary>
    internal static Activity? StartRun(ReplyJob job, bool takenOver, DateTimeOffset now)
    {
        if (job.EnqueuedAt is { } enqueued)
            Wait.Record(Math.Max(0, (now - enqueued).TotalSeconds), new KeyValuePair<string, object?>("claim", takenOver ? "takeover" : "new"));
        ActivityContext.TryParse(job.TraceParent, null, out var parent);
        var activity = Source.StartActivity("reply.run", ActivityKind.Consumer, parent);
        activity?.SetTag(ReplyIdTag, job.ReplyId);
        activity?.SetTag("chatblazor.claim", takenOver ? "takeover" : "new");
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.destination.name", "replies:jobs");
        return activity;
    }

    internal static void RunStarted() => Running.Add(1);

    internal static void RunEnded() => Running.Add(-1);
}
