using ChatBlazor.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

public class AccountFlowTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Password = "Str0ng!pass";

    private static async Task RegisterAsync(IPage page, string email)
    {
        await page.GotoAsync("/Account/Register");
        await page.GetByTestId("register-email").FillAsync(email);
        await page.GetByTestId("register-password").FillAsync(Password);
        await page.GetByTestId("register-confirm").FillAsync(Password);
        await page.GetByTestId("register-submit").ClickAsync();
    }

    private static async Task LogOutAsync(IPage page)
    {
        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("logout").ClickAsync();
        await Expect(page.GetByTestId("login-link")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task RegisterLogInSeeTheChatPageAndLogOut()
    {
        var page = await app.NewPageAsync();
        var email = $"e2e-{Guid.NewGuid():N}@example.com";

        await RegisterAsync(page, email);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/chat$"));
        await Expect(page.GetByTestId("chat-title")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("model-picker").Locator("input")).ToHaveValueAsync("chatblazor-mini"); // the shipped default
        await LogOutAsync(page);

        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-title")).ToBeVisibleAsync();
        await page.GetByTestId("user-menu").ClickAsync();
        await Expect(page.GetByTestId("user-name")).ToHaveTextAsync(email);
        await page.GetByTestId("logout").ClickAsync();
        await Expect(page.GetByTestId("login-link")).ToBeVisibleAsync();

        await page.GotoAsync("/chat");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/Account/Login"));
    }

    [Fact]
    public async Task AnonymousVisitToChatRedirectsToLogin()
    {
        var page = await app.NewPageAsync();

        await page.GotoAsync("/chat");

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/Account/Login\\?ReturnUrl=%2Fchat"));
        await Expect(page.GetByTestId("login-submit")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task NonAdminGetsAccessDeniedOnAdminAndNoAdminLink()
    {
        var page = await app.NewPageAsync();
        await RegisterAsync(page, $"user-{Guid.NewGuid():N}@example.com");
        await Expect(page.GetByTestId("nav-chat")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("nav-admin")).ToHaveCountAsync(0);

        await page.GotoAsync("/admin");

        await Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("admin-title")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task AdminSeesTheAdminConsole()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        await using (var scope = app.Services.CreateAsyncScope())
            await DatabaseSetup.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<Core.Identity.AppUser>>(), email, Password, "Admin", "Free");
        var page = await app.NewPageAsync();

        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.GetByTestId("nav-admin").ClickAsync();

        await Expect(page.GetByTestId("admin-title")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task DarkModeChoiceIsRememberedAcrossReloads()
    {
        var page = await app.NewPageAsync();
        await RegisterAsync(page, $"theme-{Guid.NewGuid():N}@example.com");
        await Expect(page.GetByTestId("theme-toggle")).ToBeVisibleAsync();
        var before = await BackgroundAsync(page);

        await page.GetByTestId("theme-toggle").ClickAsync();
        await page.WaitForFunctionAsync("b => getComputedStyle(document.body).backgroundColor !== b", before);
        var after = await BackgroundAsync(page);
        await page.ReloadAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToBeVisibleAsync();

        // Times out (and fails) if the reload fell back to the browser's scheme.
        await page.WaitForFunctionAsync("a => getComputedStyle(document.body).backgroundColor === a", after);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task OnAPhoneTheNavigationDrawerStartsClosedAndOpensFromTheMenuButton()
    {
        var page = await app.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await RegisterAsync(page, $"phone-{Guid.NewGuid():N}@example.com");
        await Expect(page.GetByTestId("chat-title")).ToBeVisibleAsync();
        // The drawer closes itself once MudBlazor's script has measured the viewport.
        await Expect(page.Locator(".mud-drawer")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("mud-drawer--closed"));
        await Expect(page.GetByTestId("nav-chat")).Not.ToBeInViewportAsync();

        await page.GetByTestId("drawer-toggle").ClickAsync();

        await Expect(page.GetByTestId("nav-chat")).ToBeInViewportAsync();
    }

    // Dark and light palettes differ in the page background, whatever the exact shades.
    private static Task<string> BackgroundAsync(IPage page) =>
        page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
}
