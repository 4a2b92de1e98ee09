using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hangfire.Server;

namespace ChatBlazor.Web.Telemetry;

/// <summary>
/// A Hangfire server filter (meter <see cref="Name"/>): every job this instance performs, by job (<c>hangfire_job</c>: class and method,
/// a fixed set; not <c>job</c>, which Prometheus gives each target) and outcome (succeeded, failed), and how long it ran.
/// </summary>
public sealed class JobTelemetry : IServerFilter
{
    public const string Name = "ChatBlazor.Jobs";

    private const string StartedKey = "chatblazor.telemetry.started";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Runs = Meter.CreateCounter<long>("chatblazor.jobs.runs", "{run}", "Hangfire job runs in this instance, by job and outcome.");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram("chatblazor.jobs.duration", "s", "How long a Hangfire job ran.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900] });

    public void OnPerforming(PerformingContext context) => context.Items[StartedKey] = Stopwatch.GetTimestamp();

    public void OnPerformed(PerformedContext context)
    {
        var job = context.BackgroundJob.Job;
        var name = new KeyValuePair<string, object?>("hangfire_job", $"{job.Type.Name}.{job.Method.Name}");
        var failed = context.Exception is not null && !context.ExceptionHandled;
        Runs.Add(1, name, new("outcome", failed ? "failed" : "succeeded"));
        if (context.Items.TryGetValue(StartedKey, out var started) && started is long timestamp)
            Duration.Record(Stopwatch.GetElapsedTime(timestamp).TotalSeconds, name);
    }
}
