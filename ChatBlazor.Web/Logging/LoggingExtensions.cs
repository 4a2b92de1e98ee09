using System.Diagnostics.Metrics;
using ChatBlazor.Core.Identity;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Formatting.Compact;

namespace ChatBlazor.Web.Logging;

public static class LoggingExtensions
{
    /// <summary>
    /// Structured JSON to stdout (containers and log shippers read it without parsing prose), and ECS documents to
    /// Elasticsearch when <c>Elasticsearch:Url</c> is set. Every sink gets events through <see cref="RedactingSink"/>:
    /// personal data removed, user ids hashed. Each line carries the trace and span ids of <c>Activity.Current</c>
    /// (<c>@tr</c>/<c>@sp</c> on stdout, <c>trace.id</c>/<c>span.id</c> in Elasticsearch). Sinks registered as
    /// <see cref="ILogEventSink"/> services get the same redacted events (the log scan test adds one).
    /// </summary>
    public static void AddStructuredLogging(this WebApplicationBuilder builder)
    {
        // Levels and enrichers may come from the Serilog section; a sink from there would skip the redaction.
        if (builder.Configuration.GetSection("Serilog:WriteTo").Exists())
            throw new InvalidOperationException("Serilog:WriteTo is not supported: every log sink goes through the redaction of personal data. Logs go to stdout, and to Elasticsearch with Elasticsearch:Url.");
        builder.Services.AddUserIdHash();
        builder.Services.AddSingleton<LogRedactor>();
        builder.Services.AddOptions<ElasticsearchOptions>().BindConfiguration(ElasticsearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ElasticsearchOptions>, ElasticsearchOptionsValidation>();
        // The sinks' own trouble (Elasticsearch down, say) goes to stderr: through the logger it would loop.
        SelfLog.Enable(Console.Error);

        builder.Services.AddSerilog((services, logger) =>
        {
            var redactor = services.GetRequiredService<LogRedactor>();
            var elasticsearch = services.GetRequiredService<IOptions<ElasticsearchOptions>>().Value;
            var extraSinks = services.GetServices<ILogEventSink>().ToList();
            logger.ReadFrom.Configuration(builder.Configuration)
                .Enrich.FromLogContext()
                .WriteTo.Sink(LoggerSinkConfiguration.Wrap(sink => new RedactingSink(redactor, sink), sinks =>
                {
                    sinks.Console(new RenderedCompactJsonFormatter());
                    if (elasticsearch.IsConfigured)
                        sinks.Sink(new ElasticsearchSink(elasticsearch, services.GetRequiredService<IMeterFactory>()));
                    foreach (var sink in extraSinks)
                        sinks.Sink(sink);
                }));
        }, preserveStaticLogger: true); // the host's logger is injected everywhere; a process-wide one would mix two hosts' lines (tests run several)
    }

    public static void UseStructuredRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger: left unset, the middleware writes to the static Log.Logger.
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} ({Route}) responded {StatusCode} in {Elapsed:0.0} ms";
            // The route template groups requests for the same endpoint whatever ids the path carries.
            options.EnrichDiagnosticContext = (diagnostics, http) =>
                diagnostics.Set("Route", (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "-");
        });
    }
}
