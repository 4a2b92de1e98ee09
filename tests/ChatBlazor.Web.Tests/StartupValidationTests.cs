using ChatBlazor.Web.Account;
using ChatBlazor.Web.Api;
using ChatBlazor.Testing;
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

    [Theory]
    [InlineData("Replies:ClaimAfter", "00:00:00.100")]
    [InlineData("Replies:Workers", "0")]
    [InlineData("Replies:Role", "Everything")]
    public async Task ABadReplySettingFailsAtStartNamingTheKey(string key, string value)
    {
        var app = new AppFactory();
        app.Set(key, value);
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => app.InitializeAsync());

            Assert.Contains(key, error.Message);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
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
    public async Task AnImageHostThatIsNotAHostNameFailsAtStartNamingTheKey()
    {
        // The whole app, because the chat's other services need the database to be built at all.
        IAsyncLifetime app = new AppFactory();
        ((AppFactory)app).Set("Chat:ImageHosts:0", "images.example.com");
        ((AppFactory)app).Set("Chat:ImageHosts:1", "* 'unsafe-inline'");
        try
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(app.InitializeAsync);

            Assert.Contains("Chat:ImageHosts:1 must be a host name", error.Message);
        }
        finally
        {
            await app.DisposeAsync(); // drops its database
        }
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "proxy.example.com")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/33")]
    public async Task AProxyThatIsNotAnAddressOrNetworkFailsAtStartNamingTheKey(string key, string value)
    {
        var builder = Builder((key, value));
        builder.AddAccounts();
        builder.AddSecurity();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains($"{key} must be", error.Message);
    }

    [Fact]
    public void AJwtLifetimeOutOfRangeFailsAtStartNamingTheKey()
    {
        var builder = Builder(("Jwt:Issuer", "https://issuer.test"), ("Jwt:Audience", "chatblazor-api"),
            ("Jwt:SigningKey", "a test signing key of at least thirty-two bytes"), ("Jwt:MaxLifetimeMinutes", "0"));

        var error = Assert.Throws<InvalidOperationException>(builder.AddApi);

        Assert.Contains("Jwt:MaxLifetimeMinutes must be between 1 and 1440", error.Message);
    }

    [Fact]
    public void MissingPostgresConnectionStringFailsAtStartNamingTheKey()
    {
        var builder = Builder(("ConnectionStrings:Postgres", ""));

        var error = Assert.Throws<InvalidOperationException>(builder.AddDatabase);

        Assert.Contains("ConnectionStrings:Postgres", error.Message);
    }
}
