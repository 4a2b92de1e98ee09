using ChatBlazor.Core.Identity;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E.Admin;

/// <summary>The console's frame, health page and Hangfire's dashboard as an admin's browser shows them, under the app's CSP.</summary>
public class AdminConsoleTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task HealthShowsPostgresAndRedisHealthyAndTheJobsDashboardWorksUnderTheContentSecurityPolicy()
    {
        var (page, _) = await app.SignedInPageAsync(Roles.Admin);
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                lock (violations) violations.Add(message.Text);
        };
        await page.Context.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));");

        await page.GotoAsync("/admin/health");
        foreach (var check in new[] { "postgres", "redis", "jobs" })
        {
            var row = page.Locator($"[data-testid=admin-health-row][data-check='{check}']").Locator("xpath=..");
            await Expect(row.GetByTestId("admin-health-status")).ToHaveTextAsync(check == "jobs" ? new System.Text.RegularExpressions.Regex("Healthy|Degraded") : new System.Text.RegularExpressions.Regex("^Healthy$"));
        }

        await page.GotoAsync("/admin/jobs/recurring");
        await Expect(page.Locator("h1")).ToContainTextAsync("Recurring");
        await page.GotoAsync("/admin/jobs");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
        await Expect(page.Locator("canvas").First).ToBeVisibleAsync(); // the dashboard's own script drew its graphs

        lock (violations) Assert.Empty(violations);
    }

    [Fact]
    public async Task AUserWhoOpensTheConsoleIsToldTheyHaveNoAccess()
    {
        var (page, _) = await app.SignedInPageAsync();

        var response = await page.GotoAsync("/admin/health");

        Assert.Contains("/Account/AccessDenied", page.Url);
        Assert.NotNull(response);
        await Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
    }
}
