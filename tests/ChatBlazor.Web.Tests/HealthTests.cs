using System.Net;
using System.Text.Json;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatBlazor.Web.Tests;

public class HealthTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task LiveAnswersWithoutCheckingDependencies()
    {
        var response = await app.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ReadyTellsAnyoneTheStatusAndOnlyAdminsTheChecks()
    {
        var anonymous = await ReadyAsync(app.CreateClient());
        var user = await ReadyAsync(await FormClient.SignedInAsync(app, Roles.User));
        var admin = await ReadyAsync(await FormClient.SignedInAsync(app, Roles.Admin));

        Assert.Equal("""{"status":"Healthy"}""", anonymous.GetRawText());
        Assert.Equal("""{"status":"Healthy"}""", user.GetRawText());
        Assert.Equal("Healthy", admin.GetProperty("status").GetString());
        Assert.Equal("Healthy", admin.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("Healthy", admin.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.True(admin.GetProperty("checks").GetProperty("redis").GetProperty("durationMs").GetDouble() >= 0);
    }

    private static async Task<JsonElement> ReadyAsync(HttpClient client)
    {
        var response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}

public class HealthWithPostgresDownTests(HealthWithPostgresDownTests.Factory app) : IClassFixture<HealthWithPostgresDownTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        // A port nothing listens on: the app starts, but cannot be ready. No database to create.
        public override Task InitializeAsync()
        {
            Set("ConnectionStrings:Postgres", "Host=127.0.0.1;Port=1;Username=postgres;Database=none;Timeout=2");
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task ReadyIs503WhenPostgresIsDownAndTheCheckSaysWhy()
    {
        var response = await app.CreateClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("""{"status":"Unhealthy"}""", await response.Content.ReadAsStringAsync());
        // Nobody can sign in without the database: the details are the admin console's, from the same checks.
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains("ready"));
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["postgres"].Status);
        Assert.Contains("PostgreSQL", report.Entries["postgres"].Description);
        Assert.Equal(HealthStatus.Healthy, report.Entries["redis"].Status);
    }
}
