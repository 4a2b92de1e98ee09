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

/// <summary>The password-reset and confirmation-email forms send mail on each request: the same guard counts them.</summary>
public class AccountEmailThrottleTests(AccountEmailThrottleTests.Factory app) : IClassFixture<AccountEmailThrottleTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public SmtpServerDouble Mail { get; } = new();

        public Factory()
        {
            FreezeClock = true;
            Set("SignIn:AttemptsPerMinute", "3");
            Set("Redis:Configuration", TestServices.Redis + ",defaultDatabase=10"); // a count of its own, as above
            Set("Smtp:Host", "127.0.0.1");
            Set("Smtp:Port", Mail.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set("Smtp:EnableSsl", "false");
            Set("Smtp:From", "chatblazor@example.com");
            Set("App:PublicUrl", "https://chat.example.com");
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Mail.DisposeAsync();
            GC.SuppressFinalize(this);
        }
    }

    [Theory]
    [InlineData("/Account/ForgotPassword", "If an account uses that address")]
    [InlineData("/Account/ResendEmailConfirmation", "If an unconfirmed account uses that address")]
    public async Task AfterTheAttemptsOfAMinuteFurtherRequestsAreRefusedWithTheWait(string path, string answer)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var pages = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var response = await FormClient.SubmitAsync(client, path, new() { ["Input.Email"] = $"nobody-{Guid.NewGuid():N}@example.com" });
            pages.Add(WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        }

        Assert.All(pages.Take(3), page => Assert.Contains(answer, page));
        Assert.Contains("Too many attempts from your network. Try again in", pages[3]);
        Assert.DoesNotContain(answer, pages[3]);
    }
}

/// <summary>Behind a configured proxy each client is counted at its own address.</summary>
public class SignInGuardBehindAProxyTests(SignInGuardBehindAProxyTests.Factory app) : IClassFixture<SignInGuardBehindAProxyTests.Factory>
{
    public sealed class Factory : Security.KestrelApp
    {
        public Factory()
        {
            FreezeClock = true;
            Set("SignIn:AttemptsPerMinute", "3");
            Set("Redis:Configuration", TestServices.Redis + ",defaultDatabase=8");
            Set("ForwardedHeaders:KnownProxies:0", "127.0.0.1");
        }
    }

    internal static async Task<string> LogInAsync(HttpClient client) =>
        WebUtility.HtmlDecode(await (await FormClient.SubmitAsync(client, "/Account/Login",
            new() { ["Input.Email"] = "nobody@example.com", ["Input.Password"] = "wrong-password" })).Content.ReadAsStringAsync());

    // Addresses of their own on every run: the frozen minute's counts outlive a run by a few minutes.
    internal static string RandomAddress() => $"198.51.{Random.Shared.Next(0, 256)}.{Random.Shared.Next(1, 255)}";

    [Fact]
    public async Task TwoClientsBehindTheProxyAreCountedApart()
    {
        var first = app.ClientVia(RandomAddress());
        var second = app.ClientVia(RandomAddress());

        for (var i = 0; i < 3; i++)
            Assert.Contains("Wrong email or password.", await LogInAsync(first));
        Assert.Contains("Too many attempts from your network.", await LogInAsync(first));

        Assert.Contains("Wrong email or password.", await LogInAsync(second));
    }
}

/// <summary>X-Forwarded-For from an address that is not a configured proxy changes nothing: no escaping the count.</summary>
public class SignInGuardWithoutAProxyTests(SignInGuardWithoutAProxyTests.Factory app) : IClassFixture<SignInGuardWithoutAProxyTests.Factory>
{
    public sealed class Factory : Security.KestrelApp
    {
        public Factory()
        {
            FreezeClock = true;
            Set("SignIn:AttemptsPerMinute", "3");
            Set("Redis:Configuration", TestServices.Redis + ",defaultDatabase=9");
        }
    }

    [Fact]
    public async Task AClientCannotEscapeTheCountByClaimingAnotherAddress()
    {
        var first = app.ClientVia(SignInGuardBehindAProxyTests.RandomAddress());
        // Until refused: every attempt counts against 127.0.0.1, whatever a previous run left in this minute.
        for (var i = 0; i < 4 && !(await SignInGuardBehindAProxyTests.LogInAsync(first)).Contains("Too many attempts", StringComparison.Ordinal); i++) { }

        var second = app.ClientVia(SignInGuardBehindAProxyTests.RandomAddress());

        Assert.Contains("Too many attempts from your network.", await SignInGuardBehindAProxyTests.LogInAsync(second));
    }
}
