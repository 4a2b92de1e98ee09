using System.Text.Json;
using ChatBlazor.Web.Account;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatBlazor.Web.Health;

public static class HealthExtensions
{
    private const string ReadyTag = "ready";
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// PostgreSQL and Redis decide readiness. The rest (the job servers, each remote inference host, configured or
    /// added in the console, and the mail server when one is set) is watched for the console's health page only: a
    /// load balancer must not take an instance out because a shared host or the mail server is down, since every
    /// instance would go with it.
    /// </summary>
    public static void AddHealth(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: [ReadyTag], timeout: CheckTimeout)
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag], timeout: CheckTimeout)
            .AddCheck<JobServersHealthCheck>("jobs", timeout: CheckTimeout)
            .AddCheck<InferenceHostsHealthCheck>("inference hosts", tags: [HealthHistory.PartsTag], timeout: CheckTimeout);
        if (builder.Configuration.GetSection(SmtpOptions.Section).Get<SmtpOptions>() is { IsConfigured: true })
            checks.AddCheck<SmtpHealthCheck>("mail server", timeout: CheckTimeout);

        builder.Services.AddSingleton<HealthHistory>();
        builder.Services.AddSingleton<IHealthCheckPublisher>(services => services.GetRequiredService<HealthHistory>());
        builder.Services.Configure<HealthCheckPublisherOptions>(publisher =>
        {
            publisher.Delay = TimeSpan.FromSeconds(5);
            publisher.Period = HealthHistory.Period;
        });
    }

    public static void MapHealth(this WebApplication app)
    {
        // Live: the process answers. Ready: it can serve, so a load balancer may send it traffic.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJson });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteJson });
    }

    private static Task WriteJson(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), error = e.Value.Description }),
        }));
    }
}
