using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// The standalone OpenAI-compatible host (<c>ChatBlazor.Inference serve</c>): the completion endpoints, the model
/// list, a health probe and Prometheus metrics (<see cref="MetricsEndpoint"/>), in front of any <see cref="IInferenceEngine"/>,
/// behind its API key and on its ops addresses as <see cref="HostAccess"/> says.
/// </summary>
public static class OpenAiHost
{
    internal const string LogCategory = "ChatBlazor.Inference.Serving.OpenAiHost";

    /// <param name="urls">The listen addresses separated by <c>;</c>, e.g. <c>http://127.0.0.1:8000</c> (port 0 picks a free
    /// one); after start, <c>app.Urls</c> lists them first and the ops addresses after them.</param>
    /// <param name="logging">Replaces the default single-line console logging (tests silence it).</param>
    /// <param name="metricsNetworks">Networks besides loopback that may read <c>/metrics</c> (a Prometheus on another box).</param>
    /// <param name="access">The API key, the ops addresses and the certificate of https addresses (none by default).</param>
    public static WebApplication Build(IInferenceEngine engine, EngineMetrics metrics, string urls, Action<ILoggingBuilder>? logging = null,
        IReadOnlyList<IPNetwork>? metricsNetworks = null, HostAccess? access = null)
    {
        access ??= new HostAccess();
        // The slim builder: no IIS, static files or HTTPS from configuration; the listeners are set here, in code.
        var builder = WebApplication.CreateSlimBuilder();
        if (access.Certificate is not null)
            builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => access.Listen(kestrel, urls));
        builder.Logging.ClearProviders();
        if (logging is not null)
            logging(builder.Logging);
        else
            builder.Logging
                .AddSimpleConsole(o => (o.SingleLine, o.TimestampFormat) = (true, "yyyy-MM-ddTHH:mm:ss.fff "))
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(engine).AddSingleton(metrics).AddSingleton(new ServerClock(DateTimeOffset.UtcNow));
        // A web app's trace continues here: its HttpClient sends traceparent, the server instrumentation picks it up.
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("chatblazor-inference"))
            .WithEngineTelemetry()
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddPrometheusExporter())
            .WithTracing(t => t.AddAspNetCoreInstrumentation());
        telemetry.UseOtlpWhenConfigured();

        var app = builder.Build();
        if (access.ApiKey is null)
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory).LogWarning(
                "No API key ({Option} or {Variable}): anyone who can reach {Urls} may run completions here", "--api-key-file", HostAccess.ApiKeyVariable, urls);
        access.UseGate(app);
        app.UsePrometheusMetrics(metricsNetworks ?? [], http => HostAccess.OnOpsAddress(http) || access.Presents(http));
        app.MapGet("/health", Health).WithName("Health").WithTags("Operations");
        app.MapGet("/status", Status).WithName("Status").WithTags("Operations");
        var v1 = app.MapGroup("/v1").WithTags("OpenAI");
        v1.MapGet("/models", ListModels).WithName("ListModels");
        v1.MapPost("/chat/completions", OpenAiCompletions.ChatAsync).WithName("CreateChatCompletion");
        v1.MapPost("/completions", OpenAiCompletions.TextAsync).WithName("CreateCompletion");
        return app;
    }

    private static Ok<HealthStatus> Health() => TypedResults.Ok(new HealthStatus("ok"));

    /// <summary>Each served model's live figures as JSON, for the web console and the auto model's routing.</summary>
    private static JsonHttpResult<EngineStatusReport> Status(IInferenceEngine engine, EngineMetrics metrics) =>
        TypedResults.Json(new EngineStatusReport([.. engine.Models.Select(m => metrics.For(m.Name).Status(m.Name))]), OpenAiJson.Options);

    private static JsonHttpResult<ModelList> ListModels(IInferenceEngine engine, ServerClock clock) => TypedResults.Json(
        new ModelList("list", [.. engine.Models.Select(m => new ModelCard(m.Name, "model", clock.Started.ToUnixTimeSeconds(), "chatblazor", m.ContextWindow))]),
        OpenAiJson.Options);

    internal sealed record HealthStatus(string Status);

    /// <summary>When the host started: the models' <c>created</c> time, since they were loaded then.</summary>
    internal sealed record ServerClock(DateTimeOffset Started);
}
