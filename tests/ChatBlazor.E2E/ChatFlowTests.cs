using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>The chat in Chromium against the app as shipped: the real engine serving chatblazor-mini.</summary>
public class ChatFlowTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    internal static async Task<IPage> SignedInPageAsync(BrowserApp app)
    {
        var page = await app.NewPageAsync();
        await page.GotoAsync("/Account/Register");
        var email = $"chat-{Guid.NewGuid():N}@example.com";
        await page.GetByTestId("register-email").FillAsync(email);
        await page.GetByTestId("register-password").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-confirm").FillAsync("Str0ng!pass");
        await page.GetByTestId("register-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync(); // enabled once the page is interactive
        return page;
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
    public sealed class SteppedEngineDouble : IInferenceEngine
    {
        private readonly Channel<string> _tokens = Channel.CreateUnbounded<string>();

        public IReadOnlyList<ModelInfo> Models { get; } = [new("stepped-double", 4096)];

        public void Release(params string[] tokens)
        {
            foreach (var token in tokens)
                _tokens.Writer.TryWrite(token);
        }

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var count = 0;
            while (true)
            {
                var token = await _tokens.Reader.ReadAsync(cancellationToken);
                count++;
                var end = token == "<end>";
                yield return new GenerationChunk(end ? "" : token, [], FinishReason: end ? FinishReason.Stop : null, Usage: end ? new GenerationUsage(5, count) : null);
                if (end)
                    yield break;
            }
        }
    }

    public sealed class SteppedApp : BrowserApp
    {
        public SteppedEngineDouble Engine { get; } = new();

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
