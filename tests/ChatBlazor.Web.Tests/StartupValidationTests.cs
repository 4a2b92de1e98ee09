using ChatBlazor.Testing;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests;

public class StartupValidationTests
{
    private sealed class Misconfigured(string key, string value) : AppFactory
    {
        public override Task InitializeAsync() => Task.CompletedTask;

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("ConnectionStrings:Postgres", "Host=127.0.0.1;Database=unused");
            builder.UseSetting(key, value);
        }
    }

    [Fact]
    public async Task MissingRedisConfigurationFailsAtStartNamingTheKey()
    {
        await using var app = new Misconfigured("Redis:Configuration", "");

        var error = Assert.Throws<OptionsValidationException>(() => app.Services);

        Assert.Contains("Redis:Configuration", error.Message);
    }

    [Fact]
    public async Task SmtpHostWithoutSenderAddressFailsAtStartNamingTheKey()
    {
        await using var app = new Misconfigured("Smtp:Host", "mail.example.com");

        var error = Assert.Throws<OptionsValidationException>(() => app.Services);

        Assert.Contains("Smtp:From", error.Message);
    }

    [Fact]
    public async Task MissingPostgresConnectionStringFailsAtStartNamingTheKey()
    {
        await using var app = new Misconfigured("ConnectionStrings:Postgres", "");

        var error = Assert.Throws<InvalidOperationException>(() => app.Services);

        Assert.Contains("ConnectionStrings:Postgres", error.Message);
    }
}
