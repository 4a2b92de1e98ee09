using System.Net.Sockets;
using ChatBlazor.Core.Data;
using ChatBlazor.Web.Account;
using ChatBlazor.Web.Inference;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Stripe;

namespace ChatBlazor.Web.Health;

internal sealed class PostgresHealthCheck(IDbContextFactory<AppDbContext> contexts) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("SELECT 1", cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL unreachable: {e.Message}");
        }
    }
}

internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy();
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy($"Redis unreachable: {e.Message}");
        }
    }
}

/// <summary>
/// Every remote inference host in use now (configured, or added in the console at run time) lists its models
/// (GET /v1/models: every OpenAI-compatible server has it, ours and others), asked with the host's own client: its
/// API key and the certificate it trusts.
/// Each host's result travels in the report's data as a <see cref="HealthSample"/> of its own, so the health page
/// shows one row per host; the check itself is as healthy as the worst of them.
/// </summary>
internal sealed class InferenceHostsHealthCheck(ModelHosting hosting, TimeProvider clock) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var samples = await Task.WhenAll(hosting.Remotes.Select(async host =>
        {
            var started = clock.GetTimestamp();
            var (status, description) = await ProbeAsync(host.Http, cancellationToken);
            return (Name: $"inference host {host.Name}", Sample: new HealthSample(clock.GetUtcNow(), status, clock.GetElapsedTime(started), description));
        }));
        var data = samples.ToDictionary(s => s.Name, s => (object)s.Sample);
        var down = samples.Count(s => s.Sample.Status != HealthStatus.Healthy);
        return down == 0
            ? HealthCheckResult.Healthy($"{samples.Length} host(s) answer.", data)
            : new HealthCheckResult(down == samples.Length ? HealthStatus.Unhealthy : HealthStatus.Degraded, $"{down} of {samples.Length} host(s) do not answer.", data: data);
    }

    private static async Task<(HealthStatus, string?)> ProbeAsync(HttpClient host, CancellationToken ct)
    {
        try
        {
            using var response = await host.GetAsync("v1/models", ct);
            return response.IsSuccessStatusCode
                ? (HealthStatus.Healthy, null)
                : (HealthStatus.Unhealthy, $"The host answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return (HealthStatus.Unhealthy, $"The host is unreachable: {e.Message}");
        }
    }
}

/// <summary>The mail server accepts a connection and greets (SMTP 220); nothing is sent.</summary>
internal sealed class SmtpHealthCheck(IOptions<SmtpOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var smtp = options.Value;
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(smtp.Host, smtp.Port, cancellationToken);
            var greeting = new byte[512];
            var read = await client.GetStream().ReadAsync(greeting, cancellationToken);
            var text = System.Text.Encoding.ASCII.GetString(greeting, 0, read);
            // A server on an implicit-TLS port starts with a handshake, not a greeting: reachable is all we can tell.
            return text.StartsWith("220", StringComparison.Ordinal) || read == 0 && smtp.Port == 465
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Degraded($"{smtp.Host}:{smtp.Port} answered without an SMTP greeting.");
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Unhealthy($"{smtp.Host}:{smtp.Port} is unreachable: {e.Message}");
        }
    }
}

/// <summary>
/// At least one Hangfire server has reported in the last minute: otherwise recurring jobs (usage rollups) stop
/// without anyone noticing. Failed jobs kept for inspection make it Degraded.
/// </summary>
internal sealed class JobServersHealthCheck(JobStorage storage, TimeProvider clock) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var monitoring = storage.GetMonitoringApi();
            var now = clock.GetUtcNow().UtcDateTime;
            var live = monitoring.Servers().Count(s => s.Heartbeat is { } beat && now - beat < TimeSpan.FromMinutes(1));
            var failed = monitoring.FailedCount();
            return Task.FromResult(live == 0
                ? HealthCheckResult.Unhealthy("No job server has reported in the last minute: recurring jobs are not running.")
                : failed > 0
                    ? HealthCheckResult.Degraded($"{live} job server(s) running; {failed} failed job(s) await a retry or deletion.")
                    : HealthCheckResult.Healthy($"{live} job server(s) running."));
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The job storage is unreachable: {e.Message}"));
        }
    }
}

/// <summary>
/// Stripe (or the emulator) answers an authenticated read: the key is accepted and prices can be listed, which the
/// billing page and Checkout need. Billing never blocks chat, so this check never decides readiness.
/// </summary>
internal sealed class StripeHealthCheck(StripeClient stripe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await new PriceService(stripe).ListAsync(new PriceListOptions { Limit = 1 }, cancellationToken: cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (StripeException e) when (e.HttpStatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
        {
            return HealthCheckResult.Unhealthy($"Stripe refused the secret key: {e.Message}");
        }
        catch (Exception e) when (e is StripeException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Unhealthy($"Stripe is unreachable: {e.Message}");
        }
    }
}

/// <summary>
/// The Elasticsearch the logs go to answers <c>GET /_cluster/health</c> with the configured credentials: green is
/// healthy, yellow degraded, red unhealthy. A key allowed only to write logs gets 403 there, which still shows the
/// cluster up and the key accepted. Log shipping never blocks the app, so this check never decides readiness.
/// </summary>
internal sealed class ElasticsearchHealthCheck(IOptions<Logging.ElasticsearchOptions> options, IHttpClientFactory http) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var es = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(es.Url.TrimEnd('/') + "/"), "_cluster/health"));
        request.Headers.Authorization = Logging.ElasticsearchSink.AuthorizationFor(es);
        try
        {
            using var response = await http.CreateClient().SendAsync(request, cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.Forbidden)
                return HealthCheckResult.Healthy("Reachable; the credentials may not read cluster health (shipping logs does not need to).");
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                return HealthCheckResult.Unhealthy("Elasticsearch refused the credentials (401): logs are not being stored.");
            if (!response.IsSuccessStatusCode)
                return HealthCheckResult.Unhealthy($"Elasticsearch answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            using var body = await System.Text.Json.JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            var status = body.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
            return status switch
            {
                "green" => HealthCheckResult.Healthy(),
                "yellow" => HealthCheckResult.Degraded("The cluster is yellow: some replicas are not allocated."),
                _ => HealthCheckResult.Unhealthy($"The cluster is {status ?? "in an unknown state"}: some data is unavailable."),
            };
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Unhealthy($"Elasticsearch is unreachable: {e.Message}");
        }
    }
}
