using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatBlazor.Web.Health;

/// <summary>One run of one check.</summary>
public sealed record HealthSample(DateTimeOffset At, HealthStatus Status, TimeSpan Duration, string? Description);

/// <summary>
/// The recent results of every health check as this instance saw them: the publisher runs them all every
/// <see cref="Period"/> and the console's health page reads the last hour from here. In memory on purpose: it
/// is about this process's view of its dependencies, and must keep working while PostgreSQL is the one away.
/// </summary>
public sealed class HealthHistory(TimeProvider clock) : IHealthCheckPublisher
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Kept = TimeSpan.FromHours(1);

    /// <summary>The tag of a check whose data holds one <see cref="HealthSample"/> per service it covers.</summary>
    public const string PartsTag = "parts";

    private readonly ConcurrentDictionary<string, Queue<HealthSample>> _samples = new(StringComparer.Ordinal);

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        Record(report);
        return Task.CompletedTask;
    }

    public void Record(HealthReport report)
    {
        var now = clock.GetUtcNow();
        foreach (var (name, entry) in report.Entries)
        {
            // A check of several services (the inference hosts) reports each one as a row of its own; with none to
            // check it shows nothing, and when it failed as a whole (a timeout) it shows as itself.
            var parts = entry.Data.Where(d => d.Value is HealthSample).ToList();
            if (entry.Tags.Contains(PartsTag) && (parts.Count > 0 || entry.Status == HealthStatus.Healthy))
                foreach (var (part, sample) in parts)
                    Add(part, (HealthSample)sample, now);
            else
                Add(name, new HealthSample(now, entry.Status, entry.Duration, entry.Description ?? entry.Exception?.Message), now);
        }
    }

    private void Add(string name, HealthSample sample, DateTimeOffset now)
    {
        var samples = _samples.GetOrAdd(name, _ => new Queue<HealthSample>());
        lock (samples)
        {
            samples.Enqueue(sample);
            while (samples.Count > 0 && now - samples.Peek().At > Kept)
                samples.Dequeue();
        }
    }

    /// <summary>Each check's samples of the last hour, oldest first.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<HealthSample>> Snapshot() =>
        _samples.ToDictionary(pair => pair.Key, pair =>
        {
            lock (pair.Value)
                return (IReadOnlyList<HealthSample>)[.. pair.Value];
        });
}
