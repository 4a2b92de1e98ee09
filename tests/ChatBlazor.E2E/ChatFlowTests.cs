using ChatBlazor.Core.Data;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>The chat in Chromium against the app as shipped: the real engine serving chatblazor-mini.</summary>
public class ChatFlowTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    internal static async Task<IPage> SignedInPageAsync(BrowserApp app, int width = 1280, int height = 800) =>
        (await SignedInAsync(app, width, height)).Page;

    /// <summary>A new account, registered through the page, on the chat page ready to type.</summary>
    internal static async Task<(IPage Page, string Email)> SignedInAsync(BrowserApp app, int width = 1280, int height = 800)
    {
        var page = await app.NewPageAsync(width, height);
        await page.GotoAsync("/Account/Register");
        var email = $"chat-{Guid.NewGuid():N}@example.com";
        await page.GetByTestId("register-email").FillAsync(email);
        await page.GetByTestId("register-password").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-confirm").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync(); // enabled once the page is interactive
        return (page, email);
    }

    internal static async Task SendAsync(IPage page, string text)
    {
        await page.GetByTestId("chat-input").FillAsync(text);
        await page.GetByTestId("chat-input").PressAsync("Enter");
    }

    [Fact]
    public async Task AReplyCompletesWithItsFiguresAndIsThereAfterAReload()
    {
        var page = await SignedInPageAsync(app);
        await SendAsync(page, "Hello!");

        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete");
        await Expect(page.GetByTestId("message-user").Locator(".message-text")).ToHaveTextAsync("Hello!");
        await Expect(reply.GetByTestId("message-footer")).ToContainTextAsync("chatblazor-mini");
        await Expect(page.GetByTestId("conversation-item")).ToHaveCountAsync(1);
        var text = await reply.Locator(".markdown").TextContentAsync();

        await page.ReloadAsync();

        await Expect(page.GetByTestId("message-assistant").Locator(".markdown")).ToHaveTextAsync(text!);
        Assert.Matches("/chat/[0-9a-f-]{36}$", page.Url);
    }

    /// <summary>
    /// The README's pictures of the chat, light and dark, taken from the real app and model on every test run so they
    /// never go stale (commit them when they change).
    /// </summary>
    [Fact]
    public async Task TheReadmeScreenshotsShowARealConversationInLightAndDark()
    {
        var page = await SignedInPageAsync(app, 1280, 760);
        // One chat per question, as the model was trained on single turns; the sidebar shows the titles it wrote
        // (questions it titles well: it names greetings and most words wrongly, see its MODEL_CARD.md).
        string[] questions = ["How do I set a system prompt?", "How do I stop a reply?", "Give me a short definition of process.", "What is 458 + 367?"];
        for (var i = 0; i < questions.Length; i++)
        {
            if (i > 0)
            {
                await page.GetByTestId("new-chat-button").ClickAsync();
                await Expect(page.GetByTestId("chat-empty")).ToBeVisibleAsync();
            }
            await SendAsync(page, questions[i]);
            await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
            await Expect(page.GetByTestId("chat-title")).Not.ToHaveTextAsync(questions[i]); // the model's title replaced the first words
        }
        await Expect(page.GetByTestId("conversation-item")).ToHaveCountAsync(questions.Length);
        var folder = Directory.CreateDirectory(Path.Combine(TestServices.RepositoryRoot(), "docs", "screenshots")).FullName;

        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "chat-light.png") });
        var light = await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.Locator("body")).Not.ToHaveCSSAsync("background-color", light);
        await page.Mouse.MoveAsync(640, 600); // away from the toggle, whose tooltip would be in the picture
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "chat-dark.png") });

        foreach (var name in new[] { "chat-light.png", "chat-dark.png" })
            Assert.True(new FileInfo(Path.Combine(folder, name)).Length > 20_000, name);
    }

    [Fact]
    public async Task AConversationExportsAsMarkdownAndJsonForItsOwnerOnly()
    {
        var page = await SignedInPageAsync(app);
        await SendAsync(page, "What is 2 + 3?");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
        var address = new Uri(page.Url).AbsolutePath;

        var markdown = await page.Context.APIRequest.GetAsync($"{address}/export.md");
        var json = await page.Context.APIRequest.GetAsync($"{address}/export.json");

        Assert.Equal(200, markdown.Status);
        using var document = System.Text.Json.JsonDocument.Parse(await json.TextAsync());
        var messages = document.RootElement.GetProperty("messages");
        Assert.Equal(["user", "assistant"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(("What is 2 + 3?", "complete"), (messages[0].GetProperty("content").GetString(), messages[1].GetProperty("status").GetString()));
        var text = await markdown.TextAsync();
        Assert.Contains("What is 2 + 3?", text);
        Assert.Contains(messages[1].GetProperty("content").GetString()!, text);

        var stranger = await SignedInPageAsync(app);
        Assert.Equal(404, (await stranger.Context.APIRequest.GetAsync($"{address}/export.json")).Status);
    }

    [Fact]
    public async Task RegenerateAddsAVersionAndTheArrowsSwitchBetweenThem()
    {
        var page = await SignedInPageAsync(app);
        await page.GetByTestId("settings-button").ClickAsync();
        await page.GetByTestId("temperature-input").FillAsync("1");
        await page.GetByTestId("settings-save").ClickAsync();
        await SendAsync(page, "tell me a joke");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");

        await page.GetByTestId("regenerate-button").ClickAsync();

        await Expect(page.GetByTestId("sibling-position")).ToHaveTextAsync("2/2");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
        await page.GetByTestId("sibling-prev").ClickAsync();
        await Expect(page.GetByTestId("sibling-position")).ToHaveTextAsync("1/2");
        await page.GetByTestId("sibling-next").ClickAsync();
        await Expect(page.GetByTestId("sibling-position")).ToHaveTextAsync("2/2");
    }

    [Fact]
    public async Task EditingAMessageStartsABranchAndSearchFindsItsText()
    {
        var page = await SignedInPageAsync(app);
        await SendAsync(page, "What is 2 + 2?");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");

        await page.GetByTestId("edit-button").ClickAsync();
        await page.GetByTestId("edit-input").FillAsync("define zebra");
        await page.GetByTestId("edit-save").ClickAsync();

        await Expect(page.GetByTestId("message-user").Locator(".message-text")).ToHaveTextAsync("define zebra");
        await Expect(page.GetByTestId("message-user").GetByTestId("sibling-position")).ToHaveTextAsync("2/2");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
        await page.GetByTestId("conversation-search").FillAsync("zebra");
        await Expect(page.GetByTestId("conversation-item")).ToHaveCountAsync(1);
        await page.GetByTestId("conversation-search").FillAsync("no such words anywhere");
        await Expect(page.GetByTestId("conversation-empty")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task MarkdownRendersWithACopyButtonAndAnXssPayloadStaysInert()
    {
        var page = await SignedInPageAsync(app);
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };

        await SendAsync(page, "<img src=x onerror=alert(1)> [click](javascript:alert(1))");

        var user = page.GetByTestId("message-user");
        await Expect(user).ToContainTextAsync("<img src=x onerror=alert(1)>"); // shown as text
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
        Assert.Equal(0, await page.Locator("[data-testid=message-user] img, [data-testid=message-assistant] img[onerror]").CountAsync());
        Assert.Equal(0, dialogs);
    }
}

/// <summary>
/// The chat against a test double engine whose tokens the test releases one by one, so that stopping and reloading
/// happen mid-reply for certain rather than by timing.
/// </summary>
public class ChatStreamingTests(ChatStreamingTests.SteppedApp app) : IClassFixture<ChatStreamingTests.SteppedApp>
{
    public sealed class SteppedApp : BrowserApp
    {
        public ReleasedEngineDouble Engine { get; } = new("stepped-double");

        public SteppedApp()
        {
            Set("Plans:Free:TokensPerDay", "100000");
            SetPlan("Small", requestsPerMinute: 10, tokensPerMinute: 100_000, tokensPerDay: 1000);
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IInferenceEngine>(Engine));
        }
    }

    [Fact]
    public async Task TheReplyGrowsAsTokensArriveAndAReloadReplaysItThenFollowsItToTheEnd()
    {
        var page = await ChatFlowTests.SignedInPageAsync(app);
        await ChatFlowTests.SendAsync(page, "count please");
        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToHaveAttributeAsync("data-status", "streaming");
        app.Engine.Release("one ");
        await Expect(reply.Locator(".markdown")).ToHaveTextAsync("one"); // the text grows as tokens arrive
        app.Engine.Release("two ");
        await Expect(reply.Locator(".markdown")).ToHaveTextAsync("one two");

        await page.ReloadAsync();

        await Expect(reply).ToHaveAttributeAsync("data-status", "streaming");
        await Expect(reply).ToContainTextAsync("one two");
        app.Engine.Release("three", "<end>");
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete");
        await Expect(reply.Locator(".markdown")).ToHaveTextAsync("one two three");
        // After the first reply the model names the chat, and the open page shows it without a reload.
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync(ReleasedEngineDouble.Title);
        await Expect(page.GetByTestId("conversation-item")).ToContainTextAsync(ReleasedEngineDouble.Title);
    }

    [Fact]
    public async Task BeyondTheDailyQuotaTheMessageIsKeptAndThePageSaysWhenSendingWorksAgain()
    {
        var (page, email) = await ChatFlowTests.SignedInAsync(app);
        await Expect(page.GetByTestId("quota-remaining")).ToContainTextAsync("100,000 of 100,000 tokens left today"); // the Free plan as this app sets it
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
            await db.Users.Where(u => u.Email == email).ExecuteUpdateAsync(s => s.SetProperty(u => u.Plan, "Small"));
        await page.ReloadAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();

        await ChatFlowTests.SendAsync(page, "a question my plan cannot afford today");

        // The reply would need its prompt plus a budget of 1,024 tokens; the Small plan has 1,000 a day.
        await Expect(page.GetByTestId("chat-error")).ToContainTextAsync("tokens per day");
        await Expect(page.GetByTestId("chat-error")).ToContainTextAsync("resets at 00:00:00 UTC");
        await Expect(page.GetByTestId("message-user")).ToHaveTextAsync("a question my plan cannot afford today"); // stored all the same
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("quota-remaining")).ToContainTextAsync("1,000 of 1,000 tokens left today");
    }

    [Fact]
    public async Task AKeyMadeOnTheApiKeysPageIsShownOnceWorksAndStopsWorkingWhenRevoked()
    {
        var page = await ChatFlowTests.SignedInPageAsync(app);
        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("menu-api-keys").ClickAsync();
        await Expect(page.GetByTestId("api-keys-empty")).ToBeVisibleAsync();

        await page.GetByTestId("api-key-name").FillAsync("my script");
        await page.GetByTestId("api-key-create").ClickAsync();

        var secret = (await page.GetByTestId("api-key-secret").TextContentAsync())!.Trim();
        Assert.StartsWith("cb-", secret);
        await Expect(page.GetByTestId("api-key-row")).ToContainTextAsync("my script");
        await Expect(page.GetByTestId("api-key-row")).Not.ToContainTextAsync(secret); // only the prefix is listed
        using var api = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await api.GetAsync("/v1/models")).StatusCode);

        await page.GetByTestId("api-key-revoke").ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync(); // the confirmation
        await Expect(page.GetByTestId("api-key-row")).ToContainTextAsync("Revoked");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await api.GetAsync("/v1/models")).StatusCode);
        await page.ReloadAsync();
        await Expect(page.GetByTestId("api-key-secret")).ToHaveCountAsync(0); // never shown again
    }

    [Fact]
    public async Task OnAPhoneTheSidebarSlidesInOnDemandAndLeavesWhenAChatIsChosen()
    {
        var page = await ChatFlowTests.SignedInPageAsync(app, width: 390, height: 844);
        await ChatFlowTests.SendAsync(page, "first chat");
        app.Engine.Release("ok", "<end>");
        await Expect(page.GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete");
        var item = page.GetByTestId("conversation-item");
        await Expect(item).Not.ToBeInViewportAsync(); // the conversation has the whole width
        // Nothing sticks out sideways (the message names what does).
        var wide = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && getComputedStyle(e).position !== 'fixed' && !e.closest('.chat-sidebar'))
              .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
            """);
        Assert.True(wide.Length == 0, string.Join("\n", wide.Take(8)));

        await page.GetByTestId("sidebar-toggle").ClickAsync();
        await Expect(item).ToBeInViewportAsync();
        await page.GetByTestId("new-chat-button").ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/chat$"));
        await Expect(item).Not.ToBeInViewportAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeInViewportAsync();
    }

    [Fact]
    public async Task AHundredThousandCharacterPasteIsSentWholeAndOneCharacterMoreIsRefusedInTheBrowser()
    {
        var (page, email) = await ChatFlowTests.SignedInAsync(app);
        var longest = string.Concat(Enumerable.Repeat("0123456789", 10_000));
        var input = page.GetByTestId("chat-input");

        await input.FillAsync(longest + "!");
        await input.PressAsync("Enter");
        await Expect(page.GetByTestId("chat-error")).ToContainTextAsync("100,001 characters; a message can have at most 100,000");
        await Expect(page.GetByTestId("message-user")).ToHaveCountAsync(0); // nothing crossed the circuit but the length

        await input.FillAsync(longest);
        await input.PressAsync("Enter");
        await Expect(page.GetByTestId("message-user")).ToHaveCountAsync(1);
        // Stored whole; the model's window cannot take it, and the page says so.
        await Expect(page.GetByTestId("chat-error")).ToContainTextAsync("too long for the model");
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
            Assert.Equal(100_000, await db.Messages.Where(m => m.Conversation!.User!.Email == email).Select(m => m.Content.Length).SingleAsync());
        await input.FillAsync("still here?"); // the circuit lives on
        await Expect(page.GetByTestId("send-button")).ToBeEnabledAsync();
    }

    [Fact]
    public async Task EscStopsTheReplyAndKeepsWhatWasWritten()
    {
        var page = await ChatFlowTests.SignedInPageAsync(app);
        await ChatFlowTests.SendAsync(page, "talk for a long time");
        app.Engine.Release("Once ", "upon ");
        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToContainTextAsync("Once upon");
        await Expect(page.GetByTestId("stop-button")).ToBeVisibleAsync();

        await page.Keyboard.PressAsync("Escape");

        await Expect(reply).ToHaveAttributeAsync("data-status", "stopped");
        await page.ReloadAsync();
        await Expect(reply).ToHaveAttributeAsync("data-status", "stopped");
        await Expect(reply.Locator(".markdown")).ToHaveTextAsync("Once upon");
        await Expect(page.GetByTestId("send-button")).ToBeVisibleAsync();
    }
}
