using ChatBlazor.Web.Account;
using ChatBlazor.Web.Data;
using ChatBlazor.Web.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests;

/// <summary>A wrong setting stops the app at start with a message that names the key.</summary>
public class StartupValidationTests
{
    private static WebApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        return builder;
    }

    [Fact]
    public async Task MissingRedisConfigurationFailsAtStartNamingTheKey()
    {
        var builder = Builder(("Redis:Configuration", ""));
        builder.AddRedis();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Redis:Configuration", error.Message);
    }

    [Fact]
    public async Task SmtpHostWithoutSenderAddressFailsAtStartNamingTheKey()
    {
        var builder = Builder(("Smtp:Host", "mail.example.com"), ("Smtp:From", ""));
        builder.AddAccounts();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Smtp:From", error.Message);
    }

    [Fact]
    public async Task SmtpHostWithoutAPublicUrlFailsAtStartNamingTheKey()
    {
        var builder = Builder(("Smtp:Host", "mail.example.com"), ("Smtp:From", "chatblazor@example.com"));
        builder.AddAccounts();
        builder.AddSecurity();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("App:PublicUrl is required when Smtp:Host is set", error.Message);
    }

    [Theory]
    [InlineData("/chat")]
    [InlineData("chat.example.com")]
    [InlineData("ftp://chat.example.com")]
    public async Task APublicUrlThatIsNotAnAbsoluteHttpUrlFailsAtStartNamingTheKey(string publicUrl)
    {
        var builder = Builder(("App:PublicUrl", publicUrl));
        builder.AddAccounts();
        builder.AddSecurity();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("App:PublicUrl must be an absolute http or https URL", error.Message);
    }

    [Fact]
    public void MissingPostgresConnectionStringFailsAtStartNamingTheKey()
    {
        var builder = Builder(("ConnectionStrings:Postgres", ""));

        var error = Assert.Throws<InvalidOperationException>(builder.AddDatabase);

        Assert.Contains("ConnectionStrings:Postgres", error.Message);
    }
}
