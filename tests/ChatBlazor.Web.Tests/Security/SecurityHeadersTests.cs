using System.Net;
using System.Text.RegularExpressions;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ChatBlazor.Web.Tests.Security;

public class SecurityHeadersTests(SecurityHeadersTests.Factory app) : IClassFixture<SecurityHeadersTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            Set("App:PublicUrl", "https://chat.example.com");
            Set("Chat:ImageHosts:0", "images.example.com");
        }
    }

    private HttpClient Client(string origin = "http://localhost") =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri(origin) });

    private static string Csp(HttpResponseMessage response) => response.Headers.GetValues("Content-Security-Policy").Single();

    [Theory]
    [InlineData("/Account/Login")] // a page
    [InlineData("/app.css")] // a static file
    [InlineData("/v1/models")] // the API's 401
    [InlineData("/health/live")]
    [InlineData("/no-such-page")] // the status-code page
    public async Task EveryResponseCarriesThePolicyNosniffAndTheReferrerPolicy(string path)
    {
        var response = await Client().GetAsync(path);

        var policy = Csp(response);
        foreach (var directive in new[]
                 {
                     "default-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: https://images.example.com",
                     "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'", "object-src 'none'",
                 })
            Assert.Contains(directive, policy.Split("; "));
        Assert.Matches("^script-src 'self' 'nonce-[A-Za-z0-9+/]{22}=='$", policy.Split("; ").Single(d => d.StartsWith("script-src", StringComparison.Ordinal)));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("strict-origin-when-cross-origin", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task ThePagesOneInlineScriptCarriesTheNonceOfItsResponseAndEachResponseHasItsOwn()
    {
        var first = await Client().GetAsync("/Account/Login");
        var second = await Client().GetAsync("/Account/Login");

        var nonce = Regex.Match(Csp(first), "'nonce-([^']+)'").Groups[1].Value;
        var inline = Regex.Matches(await first.Content.ReadAsStringAsync(), "<script(?![^>]*\\ssrc=)[^>]*>").Select(m => m.Value).ToList();
        // Razor encodes the attribute ('+' may come as "&#x2B;"); the browser decodes it before comparing with the header.
        Assert.Equal([$"<script type=\"importmap\" nonce=\"{nonce}\">"], inline.Select(WebUtility.HtmlDecode));
        Assert.NotEqual(nonce, Regex.Match(Csp(second), "'nonce-([^']+)'").Groups[1].Value);
    }

    [Fact]
    public async Task HstsIsSentOnlyOverHttps()
    {
        var overHttps = await Client("https://chat.example.com").GetAsync("/Account/Login");
        var overHttp = await Client("http://chat.example.com").GetAsync("/Account/Login");

        Assert.Equal(HttpStatusCode.OK, overHttps.StatusCode);
        Assert.Equal("max-age=31536000", overHttps.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.False(overHttp.Headers.Contains("Strict-Transport-Security"));
    }
}
