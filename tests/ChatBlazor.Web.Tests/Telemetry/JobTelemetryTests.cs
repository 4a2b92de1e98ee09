using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ChatBlazor.Testing;
using ChatBlazor.Web.Telemetry;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Telemetry;

/// <summary>The app's Hangfire server counts every job it runs, by job and outcome, through its own filter.</summary>
public class JobTelemetryTests(JobTelemetryTests.Factory app) : IClassFixture<JobTelemetryTests.Factory>, IDisposable
{
    public sealed class Factory : AppFactory
    {
        public Factory() => Set("Jobs:PollInterval", "00:00:00.200");
    }

    /// <summary>Jobs that only succeed or fail, named for this test alone.</summary>
    public sealed class TelemetryJobDouble
    {
        public void Succeed()
        {
        }

        [AutomaticRetry(Attempts = 0)]
        public void Fail() => throw new InvalidOperationException("failing on purpose");
    }

    private readonly ConcurrentQueue<(string Job, string Outcome)> _runs = new();
    private readonly MeterListener _listener = new();

    private void Listen()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobTelemetry.Name && instrument.Name == "chatblazor.jobs.runs")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? job = null, outcome = null;
            foreach (var tag in tags)
                (job, outcome) = tag.Key switch { "hangfire_job" => (tag.Value as string, outcome), "outcome" => (job, tag.Value as string), _ => (job, outcome) };
            if (job?.StartsWith(nameof(TelemetryJobDouble), StringComparison.Ordinal) == true)
                _runs.Enqueue((job, outcome!));
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task EachRunIsCountedByJobAndOutcome()
    {
        Listen();
        var jobs = app.Services.GetRequiredService<IBackgroundJobClient>();

        jobs.Enqueue<TelemetryJobDouble>(j => j.Succeed());
        jobs.Enqueue<TelemetryJobDouble>(j => j.Fail());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (_runs.Count < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(["TelemetryJobDouble.Fail:failed", "TelemetryJobDouble.Succeed:succeeded"], _runs.Select(r => $"{r.Job}:{r.Outcome}").Order());
    }
}
