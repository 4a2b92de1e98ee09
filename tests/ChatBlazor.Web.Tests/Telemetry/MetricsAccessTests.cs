using System.Net;
using ChatBlazor.Testing;
using ChatBlazor.Web.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests.Telemetry;

/// <summary><c>/metrics</c> answers loopback callers and the configured networks; everyone else gets 404.</summary>
public class MetricsAccessTests(MetricsAccessTests.Factory app) : IClassFixture<MetricsAccessTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            Set("Telemetry:MetricsAllowedNetworks:0", "10.20.0.0/16");
            Set("Telemetry:MetricsAllowedNetworks:1", "fd00:20::/32");
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter, RemoteAddressDouble>());
        }
    }

    private async Task<HttpResponseMessage> ScrapeFromAsync(string address)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add(RemoteAddressDouble.Header, address);
        return await app.CreateClient().SendAsync(request);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("10.20.7.9")]
    [InlineData("fd00:20::5")]
    public async Task LoopbackAndTheConfiguredNetworksReadTheMetrics(string address)
    {
        using var response = await ScrapeFromAsync(address);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE chatblazor_num_requests_running gauge", await response.Content.ReadAsStringAsync()); // the in-process engine
    }

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("10.21.0.1")]
    [InlineData("2001:db8::1")]
    public async Task AnyoneElseGetsNotFound(string address)
    {
        using var response = await ScrapeFromAsync(address);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("chatblazor", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>With telemetry off there is nothing to read, even from loopback.</summary>
public class MetricsOffTests(MetricsOffTests.Factory app) : IClassFixture<MetricsOffTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory() => Set("Telemetry:Enabled", "false");

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter, RemoteAddressDouble>());
        }
    }

    [Fact]
    public async Task MetricsAreNotServedWhenTelemetryIsOff()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add(RemoteAddressDouble.Header, "127.0.0.1");

        using var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

/// <summary>A malformed network stops the app at start, naming the key and the value.</summary>
public class MetricsNetworkValidationTests
{
    [Fact]
    public async Task AMalformedAllowedNetworkFailsAtStartNamingTheKey()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Telemetry:MetricsAllowedNetworks:0"] = "10.0.0.0/40";
        builder.AddTelemetry();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Telemetry:MetricsAllowedNetworks", error.Message);
        Assert.Contains("'10.0.0.0/40'", error.Message);
    }
}
