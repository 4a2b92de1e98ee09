using ChatBlazor.Web.Health;
using ChatBlazor.Web.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests.Logging;

/// <summary>The Elasticsearch health check against the double: the cluster's colours, an outage, nothing listening.</summary>
public sealed class ElasticsearchHealthCheckTests : IAsyncLifetime
{
    private ElasticsearchDouble _elasticsearch = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _elasticsearch = await ElasticsearchDouble.StartAsync();
        _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _elasticsearch.DisposeAsync();
    }

    private Task<HealthCheckResult> CheckAsync() =>
        new ElasticsearchHealthCheck(Options.Create(new ElasticsearchOptions { Url = _elasticsearch.Url, ApiKey = "a2V5OnNlY3JldA==" }),
            _services.GetRequiredService<IHttpClientFactory>()).CheckHealthAsync(new HealthCheckContext());

    [Theory]
    [InlineData("green", HealthStatus.Healthy)]
    [InlineData("yellow", HealthStatus.Degraded)]
    [InlineData("red", HealthStatus.Unhealthy)]
    public async Task TheClusterColourDecides(string colour, HealthStatus expected)
    {
        _elasticsearch.ClusterStatus = colour;

        Assert.Equal(expected, (await CheckAsync()).Status);
    }

    [Fact]
    public async Task UnhealthyWhileElasticsearchAnswers503OrIsNotListening()
    {
        _elasticsearch.Unavailable = true;
        var refusing = await CheckAsync();
        Assert.Equal((HealthStatus.Unhealthy, "Elasticsearch answered 503 Service Unavailable."), (refusing.Status, refusing.Description));

        await _elasticsearch.StopAsync();
        var gone = await CheckAsync();
        Assert.Equal(HealthStatus.Unhealthy, gone.Status);
        Assert.StartsWith("Elasticsearch is unreachable", gone.Description, StringComparison.Ordinal);
    }
}
