using System.Text.Json;
using ChatBlazor.Core.Identity;
using ChatBlazor.Web.Account;
using ChatBlazor.Web.Billing;
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
        if (builder.Configuration.GetSection(StripeOptions.Section).Get<StripeOptions>() is { IsEnabled: true })
            checks.AddCheck<StripeHealthCheck>("stripe", timeout: CheckTimeout);
        if (builder.Configuration.GetSection(Logging.ElasticsearchOptions.Section).Get<Logging.ElasticsearchOptions>() is { IsConfigured: true })
            checks.AddCheck<ElasticsearchHealthCheck>("elasticsearch", timeout: CheckTimeout);

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

    /// <summary>
    /// The status for anyone (a load balancer needs no more); each check's status, error and duration for admins
    /// only, since errors name hosts, ports and versions an attacker would like to know.
    /// </summary>
    private static Task WriteJson(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        object body = http.User.IsInRole(Roles.Admin)
            ? new
            {
                status = report.Status.ToString(),
                checks = report.Entries.ToDictionary(e => e.Key, e => new
                {
                    status = e.Value.Status.ToString(),
                    error = e.Value.Description,
                    durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
                }),
            }
            : new { status = report.Status.ToString() };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
