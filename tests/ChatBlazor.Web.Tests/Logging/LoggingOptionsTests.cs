using ChatBlazor.Testing;
using ChatBlazor.Web.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace ChatBlazor.Web.Tests.Logging;

/// <summary>A wrong logging setting stops the app at start with a message that names the key.</summary>
public class LoggingOptionsTests
{
    private static async Task<Exception> StartFailureAsync(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Logging:UserIdKey"] = AppFactory.UserIdKey;
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        return await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            builder.AddStructuredLogging();
            await using var app = builder.Build();
            await app.StartAsync();
            await app.StopAsync();
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData("too-short")]
    public async Task AMissingOrShortUserIdKeyFailsAtStartNamingTheKey(string key)
    {
        var error = await StartFailureAsync(("Logging:UserIdKey", key));

        Assert.Contains("Logging:UserIdKey", error.Message);
    }

    [Fact]
    public async Task ASinkInTheSerilogSectionIsRefusedSinceItWouldSkipRedaction()
    {
        var error = await StartFailureAsync(("Serilog:WriteTo:0:Name", "File"));

        Assert.Contains("Serilog:WriteTo", error.Message);
    }

    [Theory]
    [InlineData("Elasticsearch:Url", "es.example.com:9200", "Elasticsearch:Url")]
    [InlineData("Elasticsearch:Url", "https://elastic:changeme@es.example.com", "Elasticsearch:Url")]
    [InlineData("Elasticsearch:Index", "Logs-Upper", "Elasticsearch:Index")]
    [InlineData("Elasticsearch:UserName", "elastic", "Elasticsearch:Password")]
    [InlineData("Elasticsearch:QueueLimit", "0", "QueueLimit")]
    public async Task ABadElasticsearchSettingFailsAtStartNamingTheKey(string key, string value, string named)
    {
        var settings = new List<(string, string)> { (key, value) };
        if (key != "Elasticsearch:Url")
            settings.Add(("Elasticsearch:Url", "http://127.0.0.1:9"));

        var error = await StartFailureAsync([.. settings]);

        Assert.Contains(named, error.Message);
    }
}
