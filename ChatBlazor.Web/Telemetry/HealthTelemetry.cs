using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatBlazor.Web.Telemetry;

/// <summary>
/// The health checks' last results as a gauge (meter <see cref="Name"/>): 1 healthy, 0.5 degraded, 0 unhealthy, per
/// check (postgres, redis, jobs, inference hosts...), so alerts on PostgreSQL or Redis down need no extra exporter.
/// Fed by the health check publisher every period.
/// </summary>
public sealed class HealthTelemetry : IHealthCheckPublisher
{
    public const string Name = "ChatBlazor.Health";

    private static readonly Meter Meter = new(Name);

    private static volatile HealthReport? _last;

    static HealthTelemetry() => Meter.CreateObservableGauge("chatblazor.health.status", Read, description: "Last result of each health check: 1 healthy, 0.5 degraded, 0 unhealthy.");

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        _last = report;
        return Task.CompletedTask;
    }

    private static IEnumerable<Measurement<double>> Read() => _last is { } report
        ? [.. report.Entries.Select(e => new Measurement<double>(e.Value.Status switch
        {
            HealthStatus.Healthy => 1,
            HealthStatus.Degraded => 0.5,
            _ => 0,
        }, new KeyValuePair<string, object?>("check", e.Key)))]
        : [];
}
