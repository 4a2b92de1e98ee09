using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>The app works under its Content-Security-Policy: Chromium blocks nothing and reports nothing.</summary>
public class ContentSecurityPolicyTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task TheChatPageLoadsAndAnswersWithNoContentSecurityPolicyViolationInTheConsole()
    {
        var page = await app.NewPageAsync();
        var reports = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                lock (reports) reports.Add(message.Text);
        };
        // Violation events too, for anything Chromium blocks without a console line of its own.
        await page.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));");

        var registerPage = await page.GotoAsync("/Account/Register");
        await page.GetByTestId("register-email").FillAsync($"csp-{Guid.NewGuid():N}@example.com");
        await page.GetByTestId("register-password").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-confirm").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync(); // interactive: the circuit's WebSocket is up
        await page.GetByTestId("chat-input").FillAsync("What is 2 + 3?");
        await page.GetByTestId("chat-input").PressAsync("Enter");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
        await page.ReloadAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();

        Assert.StartsWith("default-src 'self'; script-src 'self' 'nonce-", await registerPage!.HeaderValueAsync("content-security-policy"));
        lock (reports) Assert.Empty(reports);
    }
}
