using System.Net;
using System.Text.Json;
using ChatBlazor.Testing;

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
    public async Task ReadyReportsPostgresAndRedisHealthy()
    {
        var response = await app.CreateClient().GetAsync("/health/ready");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
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
    public async Task ReadyIs503AndNamesPostgresWhenItIsDown()
    {
        var response = await app.CreateClient().GetAsync("/health/ready");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        Assert.Contains("PostgreSQL", body.GetProperty("checks").GetProperty("postgres").GetProperty("error").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
    }
}
