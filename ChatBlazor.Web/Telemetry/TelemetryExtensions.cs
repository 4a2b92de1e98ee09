using ChatBlazor.Inference.Serving;
using Hangfire;
using Hangfire.Common;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ChatBlazor.Web.Telemetry;

/// <summary>
/// OpenTelemetry for the web app: our own meters and activity sources (every <c>ChatBlazor.*</c> one: Core's
/// completions, replies and moderation, the web's circuits, jobs, webhooks and health, the in-process engine), plus
/// ASP.NET Core, HttpClient (which carries <c>traceparent</c> to remote engine hosts), Npgsql, Redis and the runtime.
/// Metrics are read at <c>/metrics</c> (<see cref="MetricsEndpoint"/>); everything goes out by OTLP when the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> variables say where.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Every meter and activity source of ours starts with this.</summary>
    private const string Ours = "ChatBlazor.*";

    public static void AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!options.Enabled)
            return;

        builder.Services.AddSingleton<CircuitHandler, CircuitTelemetry>();
        builder.Services.AddSingleton<IHealthCheckPublisher, HealthTelemetry>();
        // The Hangfire server takes its filters from the container: the global ones, and ours for this app only
        // (Hangfire's global filter list is one per process, which the tests share between several apps).
        builder.Services.AddSingleton<IJobFilterProvider>(new JobFilterProviderCollection { JobFilterProviders.Providers, new JobFilterCollection { new JobTelemetry() } });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("chatblazor-web"))
            .WithMetrics(metrics => metrics
                .AddMeter(Ours)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing =>
            {
                tracing
                    .AddSource(Ours)
                    .AddAspNetCoreInstrumentation(aspNet => aspNet.Filter = http => http.Request.Path != MetricsEndpoint.Path)
                    .AddHttpClientInstrumentation();
                // A span per database and Redis command (a streaming reply publishes every piece) is worth its cost
                // only where spans are exported: without an exporter it cost /v1 about 6% of its requests per second.
                if (MetricsEndpoint.ExportsTraces)
                    tracing.AddNpgsql().AddRedisInstrumentation();
            });
        telemetry.UseOtlpWhenConfigured();
    }

    /// <summary><c>/metrics</c> for loopback and <c>Telemetry:MetricsAllowedNetworks</c>; nothing when telemetry is off.</summary>
    public static void MapMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (options.Enabled)
            app.UsePrometheusMetrics(options.Networks());
    }
}
