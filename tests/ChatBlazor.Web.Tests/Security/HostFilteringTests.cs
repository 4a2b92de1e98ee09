using System.Net;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ChatBlazor.Web.Tests.Security;

/// <summary>Without an AllowedHosts setting the app answers to App:PublicUrl's host and loopback only.</summary>
public class HostFilteringTests(HostFilteringTests.Factory app) : IClassFixture<HostFilteringTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory() => Set("App:PublicUrl", "https://chat.example.com");
    }

    private Task<HttpResponseMessage> GetAsync(string origin) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri(origin) }).GetAsync("/Account/Login");

    [Fact]
    public async Task ARequestForAHostNotAllowedIsRefusedWith400()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync("http://attacker.example")).StatusCode);
    }

    [Theory]
    [InlineData("http://chat.example.com")]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:5000")]
    public async Task ThePublicHostAndLoopbackAreServed(string origin)
    {
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(origin)).StatusCode);
    }
}
