using System.Net;
using System.Net.Http.Json;
using ChatBlazor.Testing;
using ChatBlazor.Web.Account;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests;

/// <summary>Log-in and sign-up attempts per address: limited in Redis, and refused (not unlimited) while Redis is away.</summary>
public class SignInGuardTests(SignInGuardTests.Factory app) : IClassFixture<SignInGuardTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            FreezeClock = true;
            Set("SignIn:AttemptsPerMinute", "3");
            // Every test app signs in from 127.0.0.1 against the same Redis: a database of its own keeps this count apart.
            Set("Redis:Configuration", TestServices.Redis + ",defaultDatabase=7");
        }
    }

    [Fact]
    public async Task AfterTheAttemptsOfAMinuteFurtherLogInsAreRefusedWithTheWait()
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var pages = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var response = await FormClient.SubmitAsync(client, "/Account/Login", new() { ["Input.Email"] = "nobody@example.com", ["Input.Password"] = "wrong-password" });
            pages.Add(WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        }

        Assert.All(pages.Take(3), page => Assert.Contains("Wrong email or password.", page));
        Assert.Contains("Too many attempts from your network. Try again in", pages[3]);
    }
}

public class SignInWithRedisDownTests(SignInWithRedisDownTests.Factory app) : IClassFixture<SignInWithRedisDownTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        // A port nothing listens on: the app starts and reconnects in the background, as in an outage.
        public Factory() => Set("Redis:Configuration", "127.0.0.1:1,abortConnect=false,connectTimeout=500,asyncTimeout=500");
    }

    [Theory]
    [InlineData("/Account/Login", "Input.Email", "Input.Password")]
    [InlineData("/Account/Register", "Input.Email", "Input.Password")]
    public async Task LogInAndSignUpFailClosedWithAClearMessage(string path, string emailField, string passwordField)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var email = $"down-{Guid.NewGuid():N}@example.com";

        var response = await FormClient.SubmitAsync(client, path, new()
        {
            [emailField] = email, [passwordField] = "Str0ng!pass", ["Input.ConfirmPassword"] = "Str0ng!pass",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the form again, not a redirect into the app
        Assert.Contains(SignInGuard.Unavailable, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(".AspNetCore.Identity", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TheApiKeepsAnsweringUnderTheInProcessLimitAtHalfThePlan()
    {
        var (_, key) = await app.UserWithKeyAsync();
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 4 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("10", response.Headers.GetValues("x-ratelimit-limit-requests").Single()); // Free allows 20; this instance alone, 10
    }
}
