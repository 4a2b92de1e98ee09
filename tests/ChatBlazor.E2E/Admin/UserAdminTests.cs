using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Identity;
using ChatBlazor.Web.Account;
using ChatBlazor.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E.Admin;

/// <summary>/admin/users in Chromium: an admin suspends a user whose chat is open in another browser, and changes their plan.</summary>
public class UserAdminTests(UserAdminTests.Factory app) : IClassFixture<UserAdminTests.Factory>
{
    public sealed class Factory : BrowserApp
    {
        public Factory()
        {
            SetPlan("Small", requestsPerMinute: 5, tokensPerMinute: 50_000, tokensPerDay: 500_000);
            SetPlan("Large", requestsPerMinute: 900, tokensPerMinute: 900_000, tokensPerDay: 9_000_000);
            Set("Plans:DefaultPlan", "Small");
        }
    }

    private const string Password = "Str0ng!pass";

    private async Task<IPage> AdminOnUsersPageAsync()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        await using (var scope = app.Services.CreateAsyncScope())
            await DatabaseSetup.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, Password, Roles.Admin, "Small");
        var page = await app.NewPageAsync();
        await LogInAsync(page, email);
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();
        await page.GotoAsync("/admin/users");
        return page;
    }

    private static async Task LogInAsync(IPage page, string email)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
    }

    /// <summary>The user's row, found with the search box.</summary>
    private static async Task<ILocator> RowOfAsync(IPage admin, string email)
    {
        await Expect(admin.GetByTestId("admin-user-search")).ToBeEnabledAsync(); // once the page is interactive
        await admin.GetByTestId("admin-user-search").FillAsync(email);
        var row = admin.Locator($"[data-testid=admin-user-row][data-email='{email}']");
        await Expect(admin.GetByTestId("admin-user-row")).ToHaveCountAsync(1); // the search left only them
        await Expect(row).ToBeVisibleAsync();
        return row;
    }

    private async Task<string> KeyOfAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email);
        return (await app.Services.GetRequiredService<ApiKeyStore>().CreateAsync(user!.Id, "script")).Secret;
    }

    private HttpClient ApiClient(string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static Task<HttpResponseMessage> CompleteAsync(HttpClient client) => client.PostAsJsonAsync("/v1/chat/completions",
        new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 2 });

    [Fact]
    public async Task SuspendingSignsTheOpenChatOutAtOnceAndRefusesTheKeyUnsuspendingRestoresBoth()
    {
        var (userPage, email) = await ChatFlowTests.SignedInAsync(app);
        using var api = ApiClient(await KeyOfAsync(email));
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(api)).StatusCode);
        var admin = await AdminOnUsersPageAsync();
        var row = await RowOfAsync(admin, email);
        var suspend = row.GetByTestId("admin-user-suspend");
        await Expect(suspend).ToHaveTextAsync("Suspend");

        await suspend.ClickAsync();

        await Expect(suspend).ToHaveTextAsync("Unsuspend");
        // The user's page was left alone; the server ended its session and sent it to the log-in page.
        await Expect(userPage).ToHaveURLAsync(new Regex("/Account/Login"));
        await Expect(userPage.GetByText(SessionEnd.SuspendedNotice)).ToBeVisibleAsync();
        var refused = await CompleteAsync(api);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("has been suspended", await refused.Content.ReadAsStringAsync());
        await LogInAsync(userPage, email);
        await Expect(userPage.GetByText(SessionEnd.SuspendedLogIn)).ToBeVisibleAsync();

        await suspend.ClickAsync();

        await Expect(suspend).ToHaveTextAsync("Suspend");
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(api)).StatusCode);
        await LogInAsync(userPage, email);
        await Expect(userPage.GetByTestId("chat-input")).ToBeEnabledAsync();
    }

    [Fact]
    public async Task APlanChosenInTheRowSetsTheNextRequestsLimits()
    {
        var (_, email) = await ChatFlowTests.SignedInAsync(app);
        using var api = ApiClient(await KeyOfAsync(email));
        var before = await CompleteAsync(api);
        Assert.Equal("5", before.Headers.GetValues("x-ratelimit-limit-requests").Single()); // Small, the default plan
        var admin = await AdminOnUsersPageAsync();
        var plan = (await RowOfAsync(admin, email)).GetByTestId("admin-user-plan");
        await Expect(plan).ToHaveValueAsync("Small");

        await plan.SelectOptionAsync("Large");

        await Expect(admin.GetByText($"{email} is on the Large plan from their next request.")).ToBeVisibleAsync();
        var after = await CompleteAsync(api);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("900", after.Headers.GetValues("x-ratelimit-limit-requests").Single());
        await Expect(plan).ToHaveValueAsync("Large");
    }

    [Fact]
    public async Task DeletingAUserFromTheirPageNeedsTheirEmailTypedAndRemovesThem()
    {
        var email = $"gone-{Guid.NewGuid():N}@example.com";
        await using (var scope = app.Services.CreateAsyncScope())
            await DatabaseSetup.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, Password, null, "Small");
        var admin = await AdminOnUsersPageAsync();
        await (await RowOfAsync(admin, email)).GetByRole(AriaRole.Link, new() { Name = email }).ClickAsync();
        var delete = admin.GetByTestId("admin-user-delete");
        await Expect(admin.GetByTestId("admin-title")).ToHaveTextAsync(email);
        await Expect(delete).ToBeDisabledAsync();

        await admin.GetByTestId("admin-user-delete-confirm").FillAsync("someone@example.com");
        await Expect(delete).ToBeDisabledAsync();
        await admin.GetByTestId("admin-user-delete-confirm").FillAsync(email);
        await Expect(delete).ToBeEnabledAsync();
        await delete.ClickAsync();

        await Expect(admin).ToHaveURLAsync(new Regex("/admin/users$"));
        await Expect(admin.GetByTestId("admin-user-search")).ToBeEnabledAsync();
        await admin.GetByTestId("admin-user-search").FillAsync(email);
        await Expect(admin.GetByTestId("admin-users-empty")).ToBeVisibleAsync();
        await using (var scope = app.Services.CreateAsyncScope())
            Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email));
    }
}

/// <summary>Suspending on one instance signs the user's page out on another (a web process of its own, sharing the database and Redis).</summary>
public class UserAdminFleetTests(ChatBlazor.E2E.Fleet.FleetTests.Fleet fleet) : IClassFixture<ChatBlazor.E2E.Fleet.FleetTests.Fleet>
{
    [Fact]
    public async Task ASuspensionOnOneInstanceSignsOutTheUsersPageOnAnother()
    {
        await using var other = await fleet.StartInstanceAsync();
        var page = await fleet.PageOnAsync(other.BaseUrl);
        var email = $"fleet-{Guid.NewGuid():N}@example.com";
        await page.GotoAsync("/Account/Register");
        await page.GetByTestId("register-email").FillAsync(email);
        await page.GetByTestId("register-password").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-confirm").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();

        // The console's service in this instance (the in-process app), as an admin's click there would call it.
        var admin = fleet.Services.GetRequiredService<ChatBlazor.Core.Admin.UserAdmin>();
        await admin.SetSuspendedAsync(ChatBlazor.Core.Admin.AuditActor.Shell, await admin.IdByEmailAsync(email), true);

        await Expect(page).ToHaveURLAsync(new Regex("/Account/Login"));
        await Expect(page.GetByText(SessionEnd.SuspendedNotice)).ToBeVisibleAsync();
    }
}
