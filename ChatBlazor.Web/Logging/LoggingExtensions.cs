using Serilog;
using Serilog.Formatting.Compact;

namespace ChatBlazor.Web.Logging;

public static class LoggingExtensions
{
    /// <summary>Structured JSON to stdout: containers and log shippers read it without parsing prose.</summary>
    public static void AddStructuredLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console(new RenderedCompactJsonFormatter()));
    }

    public static void UseStructuredRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} ({Route}) responded {StatusCode} in {Elapsed:0.0} ms";
            // The route template groups requests for the same endpoint whatever ids the path carries.
            options.EnrichDiagnosticContext = (diagnostics, http) =>
                diagnostics.Set("Route", (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "-");
        });
    }
}
