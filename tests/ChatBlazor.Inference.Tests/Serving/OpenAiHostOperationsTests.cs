using System.Net;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The model list, the health probe and the Prometheus scrape.</summary>
public class OpenAiHostOperationsTests
{
    [Fact]
    public async Task ModelsAreListedAsAnOpenAiListWithTheContextWindow()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.Client.GetAsync("v1/models");
        var body = await TestHost.JsonAsync(response);

        Assert.Equal("list", body.GetProperty("object").GetString());
        var model = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("scripted", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("chatblazor", model.GetProperty("owned_by").GetString());
        Assert.Equal(4096, model.GetProperty("max_model_len").GetInt32());
        Assert.True(model.GetProperty("created").GetInt64() > 1_700_000_000);
    }

    [Fact]
    public async Task HealthAnswersOk()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.Client.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await TestHost.JsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task MetricsArePrometheusTextFromTheEngineMetrics()
    {
        using var metrics = new EngineMetrics();
        var model = $"gauged-{Guid.NewGuid():N}"; // the gauges show every live engine of the process: a name of this test's own
        metrics.For(model).SetLoad(running: 2, waiting: 1, kvCacheUsage: 0.5);
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), metrics);

        using var response = await host.Client.GetAsync("metrics");
        var contentType = response.Content.Headers.ContentType!;
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", contentType.MediaType);
        Assert.Contains(contentType.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        Assert.Matches(@"(?m)^chatblazor_num_requests_running\{[^}]*model_name=""" + model + @"""[^}]*\} 2( |$)", text);
        Assert.Matches(@"(?m)^chatblazor_kv_cache_usage_perc\{[^}]*model_name=""" + model + @"""[^}]*\} 0.5( |$)", text);
    }

    [Fact]
    public void MetricsAnswerLoopbackAndTheAllowedNetworksOnly()
    {
        var networks = MetricsEndpoint.ParseNetworks(["10.1.0.0/16", "fd00::/8"], "--metrics-allow");

        Assert.True(MetricsEndpoint.Allows(IPAddress.Loopback, []));
        Assert.True(MetricsEndpoint.Allows(IPAddress.IPv6Loopback, []));
        Assert.True(MetricsEndpoint.Allows(IPAddress.Parse("::ffff:127.0.0.1"), []));
        Assert.True(MetricsEndpoint.Allows(IPAddress.Parse("10.1.200.3"), networks));
        Assert.True(MetricsEndpoint.Allows(IPAddress.Parse("::ffff:10.1.0.9"), networks));
        Assert.True(MetricsEndpoint.Allows(IPAddress.Parse("fd12::1"), networks));
        Assert.False(MetricsEndpoint.Allows(IPAddress.Parse("10.2.0.1"), networks));
        Assert.False(MetricsEndpoint.Allows(IPAddress.Parse("203.0.113.7"), networks));
        Assert.False(MetricsEndpoint.Allows(null, networks));
    }

    [Fact]
    public void AMalformedAllowedNetworkIsRefusedByName()
    {
        var error = Assert.Throws<FormatException>(() => MetricsEndpoint.ParseNetworks(["10.0.0.0/8", "10.0.0.300/8"], "--metrics-allow"));

        Assert.Contains("--metrics-allow", error.Message);
        Assert.Contains("'10.0.0.300/8'", error.Message);
    }
}
