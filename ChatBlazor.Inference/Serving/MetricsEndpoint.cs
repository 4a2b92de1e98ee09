using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// <c>GET /metrics</c> in Prometheus' text format (the OpenTelemetry Prometheus exporter), on the app's own port,
/// answered only for loopback callers and the networks an operator allows; anyone else gets 404, as if it did not
/// exist, so the public never learns the service's load. Shared by the engine host and the web app.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Parses CIDR networks (<c>10.0.0.0/8</c>, <c>fd00::/8</c>); throws <see cref="FormatException"/> naming the one that is not.</summary>
    public static IReadOnlyList<IPNetwork> ParseNetworks(IEnumerable<string> cidrs, string setting) =>
    [
        .. cidrs.Select(c => IPNetwork.TryParse(c.Trim(), out var network)
            ? network
            : throw new FormatException($"{setting}: '{c}' is not a network in CIDR notation (e.g. 10.0.0.0/8 or fd00::/8).")),
    ];

    /// <summary>Whether <paramref name="remote"/> may read the metrics: loopback, or inside one of <paramref name="networks"/>.</summary>
    public static bool Allows(IPAddress? remote, IReadOnlyList<IPNetwork> networks)
    {
        if (remote is null)
            return false; // no socket (an in-memory test server without a forged address): not a known caller
        if (remote.IsIPv4MappedToIPv6)
            remote = remote.MapToIPv4();
        return IPAddress.IsLoopback(remote) || networks.Any(n => n.Contains(remote));
    }

    /// <summary>
    /// Answers <see cref="Path"/> from the exporter for allowed callers; 404 for the others. <paramref name="alsoAllow"/>
    /// admits callers from elsewhere (an inference host's ops address, or a caller with its API key).
    /// </summary>
    public static void UsePrometheusMetrics(this IApplicationBuilder app, IReadOnlyList<IPNetwork> networks, Func<HttpContext, bool>? alsoAllow = null) =>
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null, predicate: http => http.Request.Path == Path, path: null, optionsName: null,
            configureBranchedPipeline: branch => branch.Use((http, next) =>
            {
                if (Allows(http.Connection.RemoteIpAddress, networks) || alsoAllow?.Invoke(http) == true)
                    return next(http);
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));

    /// <summary>
    /// OTLP export of all signals when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or a per-signal
    /// <c>OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT</c>) is set; the exporter reads the other <c>OTEL_*</c> itself.
    /// </summary>
    public static void UseOtlpWhenConfigured(this IOpenTelemetryBuilder telemetry)
    {
        if (AnySet("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"))
            telemetry.UseOtlpExporter();
    }

    /// <summary>Whether spans leave the process (an OTLP endpoint for traces is set); otherwise they only give log lines their trace ids.</summary>
    public static bool ExportsTraces => AnySet("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");

    private static bool AnySet(params string[] variables) =>
        variables.Any(v => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(v)));

    /// <summary>The engine's telemetry in a host: its meter and spans, plus those of the HTTP server that carries them.</summary>
    public static OpenTelemetryBuilder WithEngineTelemetry(this OpenTelemetryBuilder telemetry) => telemetry
        .WithMetrics(metrics => metrics.AddMeter(EngineMetrics.MeterName))
        .WithTracing(tracing => tracing.AddSource(EngineMetrics.MeterName));
}
