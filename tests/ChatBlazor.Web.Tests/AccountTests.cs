using System.Net;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using ChatBlazor.Web.Account;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests;

public class AccountTests(AppFactory app) : IClassFixture<AppFactory>
{
    private HttpClient NewBrowser(AppFactory? instance = null) =>
        (instance ?? app).CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient client, string email, string password = "Str0ng!pass") =>
        FormClient.SubmitAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });

    private static Task<HttpResponseMessage> LogInAsync(HttpClient client, string email, string password) =>
        FormClient.SubmitAsync(client, "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    [Fact]
    public async Task AnonymousVisitToChatRedirectsToLogin()
    {
        var response = await NewBrowser().GetAsync("/chat");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task RegisteringSignsInWithoutEmailConfirmationAndGivesRoleUser()
    {
        var browser = NewBrowser();
        var email = $"new-{Guid.NewGuid():N}@example.com";

        var registered = await RegisterAsync(browser, email);

        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        Assert.EndsWith("chat", registered.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/chat")).StatusCode);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = (await users.FindByEmailAsync(email))!;
        Assert.Equal([Roles.User], await users.GetRolesAsync(user));
        Assert.Equal("Free", user.Plan); // Plans:DefaultPlan of appsettings.json
    }

    [Fact]
    public async Task RegisteringWithAWeakPasswordShowsWhyAndCreatesNoUser()
    {
        var email = $"weak-{Guid.NewGuid():N}@example.com";

        var response = await RegisterAsync(NewBrowser(), email, "password1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Passwords must have at least one uppercase", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        await using var scope = app.Services.CreateAsyncScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email));
    }

    [Fact]
    public async Task FiveWrongPasswordsLockTheAccountEvenForTheRightPassword()
    {
        var email = $"lock-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(NewBrowser(), email);
        var browser = NewBrowser();

        for (var attempt = 0; attempt < 5; attempt++)
            await LogInAsync(browser, email, "Wrong!pass1");
        var withRightPassword = await LogInAsync(browser, email, "Str0ng!pass");

        Assert.Equal(HttpStatusCode.Redirect, withRightPassword.StatusCode);
        Assert.EndsWith("Account/Lockout", withRightPassword.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task WrongPasswordShowsAnErrorWithoutSayingWhichPartWasWrong()
    {
        var email = $"wrong-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(NewBrowser(), email);

        var response = await LogInAsync(NewBrowser(), email, "Wrong!pass1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Wrong email or password.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LogoutEndsTheSession()
    {
        var browser = NewBrowser();
        await RegisterAsync(browser, $"out-{Guid.NewGuid():N}@example.com");

        var loggedOut = await FormClient.SubmitAsync(browser, "/chat", new() { ["ReturnUrl"] = "" }, action: "/Account/Logout");

        Assert.Equal(HttpStatusCode.Redirect, loggedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/chat")).StatusCode);
    }

    [Fact]
    public async Task NonAdminIsDeniedTheAdminConsole()
    {
        var browser = NewBrowser();
        await RegisterAsync(browser, $"user-{Guid.NewGuid():N}@example.com");

        var response = await browser.GetAsync("/admin");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/AccessDenied", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task AnotherInstanceOnTheSameDatabaseAcceptsTheSessionCookie()
    {
        var registered = await RegisterAsync(NewBrowser(), $"shared-{Guid.NewGuid():N}@example.com");
        var cookie = registered.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Identity.Application=")).Split(';')[0];

        // A second host: its own process state and key ring cache, the same PostgreSQL.
        await using var second = new SecondInstance(app.ConnectionString);
        var request = new HttpRequestMessage(HttpMethod.Get, "/chat");
        request.Headers.Add("Cookie", cookie);
        var response = await second.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false }).SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.NotEmpty(await db.DataProtectionKeys.ToListAsync());
    }

    [Fact]
    public void EmailConfirmationIsOffWithoutAMailServer()
    {
        Assert.False(app.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.SignIn.RequireConfirmedAccount);
        Assert.True(app.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.Lockout.AllowedForNewUsers);
    }

    [Fact]
    public async Task ThemePreferenceIsRememberedPerUser()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = $"theme-{Guid.NewGuid():N}@example.com", Email = $"theme-{Guid.NewGuid():N}@example.com" };
        await users.CreateAsync(user);
        var preferences = scope.ServiceProvider.GetRequiredService<UserPreferences>();

        Assert.Null(await preferences.GetDarkModeAsync(user.Id));
        await preferences.SetDarkModeAsync(user.Id, true);
        Assert.True(await preferences.GetDarkModeAsync(user.Id));
    }

    private sealed class SecondInstance(string connectionString) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseSetting("ConnectionStrings:Postgres", connectionString);
            builder.UseSetting("Redis:Configuration", TestServices.Redis);
            builder.UseSetting("Logging:UserIdKey", AppFactory.UserIdKey);
        }
    }
}

public class AccountWithMailServerTests(AccountWithMailServerTests.Factory app) : IClassFixture<AccountWithMailServerTests.Factory>
{
    public const string PublicUrl = "https://chat.example.com";

    public sealed class Factory : AppFactory
    {
        public SmtpServerDouble Mail { get; } = new();

        public Factory()
        {
            Set("Smtp:Host", "127.0.0.1");
            Set("Smtp:Port", Mail.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set("Smtp:EnableSsl", "false");
            Set("Smtp:From", "chatblazor@example.com");
            Set("App:PublicUrl", PublicUrl);
            // An operator may answer to any host; the links in emails must still name App:PublicUrl.
            Set("AllowedHosts", "*");
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Mail.DisposeAsync();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>A browser that sends a Host header of the attacker's choosing, as a password-reset poisoning attempt does.</summary>
    private HttpClient BrowserWithHostileHost() =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("http://attacker.example") });

    private async Task<AppUser> UserAsync(bool emailConfirmed)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = $"mail-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = emailConfirmed };
        Assert.True((await users.CreateAsync(user, "Str0ng!pass")).Succeeded);
        return user;
    }

    [Fact]
    public void EmailConfirmationIsRequiredOnceSmtpIsConfigured() =>
        Assert.True(app.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.SignIn.RequireConfirmedAccount);

    [Fact]
    public async Task TheSignUpConfirmationLinkIsBuiltFromThePublicUrlNotTheHostHeaderAndConfirms()
    {
        var email = $"signup-{Guid.NewGuid():N}@example.com";

        await FormClient.SubmitAsync(BrowserWithHostileHost(), "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = "Str0ng!pass", ["Input.ConfirmPassword"] = "Str0ng!pass",
        });

        var link = await app.Mail.NextLinkToAsync(email);
        Assert.StartsWith($"{PublicUrl}/Account/ConfirmEmail?", link);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync(new Uri(link).PathAndQuery)).StatusCode);
        await using var scope = app.Services.CreateAsyncScope();
        Assert.True((await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email))!.EmailConfirmed);
    }

    [Fact]
    public async Task ThePasswordResetLinkIsBuiltFromThePublicUrlNotTheHostHeader()
    {
        var user = await UserAsync(emailConfirmed: true);

        await FormClient.SubmitAsync(BrowserWithHostileHost(), "/Account/ForgotPassword", new() { ["Input.Email"] = user.Email! });

        Assert.StartsWith($"{PublicUrl}/Account/ResetPassword?code=", await app.Mail.NextLinkToAsync(user.Email!));
    }

    [Fact]
    public async Task AResentConfirmationLinkIsBuiltFromThePublicUrlNotTheHostHeader()
    {
        var user = await UserAsync(emailConfirmed: false);

        await FormClient.SubmitAsync(BrowserWithHostileHost(), "/Account/ResendEmailConfirmation", new() { ["Input.Email"] = user.Email! });

        Assert.StartsWith($"{PublicUrl}/Account/ConfirmEmail?", await app.Mail.NextLinkToAsync(user.Email!));
    }
}
