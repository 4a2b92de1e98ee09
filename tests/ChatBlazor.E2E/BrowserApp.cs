using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ChatBlazor.E2E;

/// <summary>
/// The app on a real Kestrel port and a headless Chromium pointed at it: what a user's browser sees.
/// Chromium comes from Debian (CHATBLAZOR_CHROMIUM, default /usr/bin/chromium); nothing is downloaded.
/// </summary>
public class BrowserApp : AppFactory
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    public string BaseUrl { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        UseKestrel(0);
        await base.InitializeAsync();
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

        // Every test assembly runs beside this one on two cores (the model and training tests too), so a page that
        // answers in 2 s alone can take over 5 s, Playwright's default wait for an expectation. A wait is an upper
        // bound, not a timing assert: the same 20 s as the actions' timeout below.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchChromiumAsync(_playwright);
    }

    /// <summary>Debian's Chromium, headless, with the flags it needs to run as root in a container.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = Environment.GetEnvironmentVariable("CHATBLAZOR_CHROMIUM") ?? "/usr/bin/chromium",
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
    });

    /// <summary>A fresh browser profile (no cookies) with its first page; a desktop window unless a size is given.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = BaseUrl, ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    public const string Password = "Str0ng!pass";

    /// <summary>A new account (role User, plus <paramref name="role"/>), signed in on a fresh browser profile.</summary>
    public async Task<(IPage Page, string Email)> SignedInPageAsync(string? role = null)
    {
        var email = $"{(role ?? "user").ToLowerInvariant()}-{Guid.NewGuid():N}@example.com";
        await using (var scope = Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ChatBlazor.Core.Identity.AppUser>>();
            var user = new ChatBlazor.Core.Identity.AppUser { UserName = email, Email = email };
            Check(await users.CreateAsync(user, Password));
            Check(await users.AddToRoleAsync(user, ChatBlazor.Core.Identity.Roles.User));
            if (role is not null && role != ChatBlazor.Core.Identity.Roles.User)
                Check(await users.AddToRoleAsync(user, role));
        }
        var page = await NewPageAsync();
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/Account/Login", StringComparison.Ordinal));
        return (page, email);

        static void Check(Microsoft.AspNetCore.Identity.IdentityResult result)
        {
            if (!result.Succeeded)
                throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
