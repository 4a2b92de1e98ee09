using System.Net;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Security;

/// <summary>
/// The app on a real Kestrel port, so requests arrive from a real address (127.0.0.1) that can be configured as a
/// proxy or not; clients send the headers a proxy would add.
/// </summary>
public class KestrelApp : AppFactory
{
    public string BaseUrl { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        UseKestrel(0);
        await base.InitializeAsync();
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
    }

    /// <summary>A client (with its own cookies) whose requests carry these X-Forwarded-* headers.</summary>
    public HttpClient ClientVia(string? forwardedFor = null, string? forwardedProto = null)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(BaseUrl) };
        if (forwardedFor is not null)
            client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        if (forwardedProto is not null)
            client.DefaultRequestHeaders.Add("X-Forwarded-Proto", forwardedProto);
        return client;
    }
}

public class BehindAKnownProxyTests(BehindAKnownProxyTests.Factory app) : IClassFixture<BehindAKnownProxyTests.Factory>
{
    public sealed class Factory : KestrelApp
    {
        public Factory()
        {
            Set("ForwardedHeaders:KnownProxies:0", "127.0.0.1");
            Set("App:PublicUrl", "https://chat.example.com");
        }
    }

    internal static async Task<string> SignUpCookieAsync(HttpClient client)
    {
        var password = "Str0ng!pass";
        var response = await FormClient.SubmitAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = $"proxy-{Guid.NewGuid():N}@example.com", ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Identity.Application=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HttpsForwardedByAKnownProxyMakesTheSignInCookieSecure()
    {
        var cookie = await SignUpCookieAsync(app.ClientVia("203.0.113.10", "https"));

        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("https", true)]
    [InlineData("http", false)]
    public async Task HstsIsSentWhenTheProxySaysTheClientUsedHttps(string forwardedProto, bool hsts)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/Account/Login");
        request.Headers.Host = "chat.example.com";

        var response = await app.ClientVia("203.0.113.13", forwardedProto).SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(hsts, response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task PlainHttpThroughTheProxyKeepsTheCookieUsableOverHttp()
    {
        var cookie = await SignUpCookieAsync(app.ClientVia("203.0.113.11", "http"));

        Assert.DoesNotContain("; secure", cookie, StringComparison.OrdinalIgnoreCase);
    }
}

public class BehindAnUnknownProxyTests(BehindAnUnknownProxyTests.Factory app) : IClassFixture<BehindAnUnknownProxyTests.Factory>
{
    public sealed class Factory : KestrelApp;

    [Fact]
    public async Task ForwardedHeadersFromAnAddressNotConfiguredAreIgnored()
    {
        var cookie = await BehindAKnownProxyTests.SignUpCookieAsync(app.ClientVia("203.0.113.12", "https"));
        var page = await app.ClientVia("203.0.113.12", "https").GetAsync("/Account/Login");

        Assert.DoesNotContain("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.False(page.Headers.Contains("Strict-Transport-Security"));
    }
}
