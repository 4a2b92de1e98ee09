using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Usage;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E.Fleet;

/// <summary>
/// Several web instances of one installation, as a fleet runs them behind a load balancer: this class's app
/// (in-process, serving pages only: Replies:Role = Ui) and web processes of their own that run the reply jobs, all
/// on one PostgreSQL database and one Redis, reaching one model host.
/// </summary>
public class FleetTests(FleetTests.Fleet fleet) : IClassFixture<FleetTests.Fleet>
{
    private const string Password = "Str0ng!pass";

    public sealed class Fleet : BrowserApp
    {
        public ScriptedModelHostDouble Model { get; private set; } = null!;

        /// <summary>What every instance shares; the model host is added once it listens.</summary>
        private Dictionary<string, string> Shared() => new()
        {
            ["Replies:ClaimAfter"] = "00:00:02", // a killed worker's job is taken over quickly
            ["Replies:SaveInterval"] = "00:00:00", // every piece saved: "the text before the kill" is exact
            ["Plans:Free:ConcurrentReplies"] = "100",
            ["Plans:Free:RequestsPerMinute"] = "1000",
            ["Plans:Free:TokensPerMinute"] = "100000000",
            ["Plans:Free:TokensPerDay"] = "100000000",
            ["Plans:Free:Models:0"] = ScriptedModelHostDouble.Model, // the picker offers the plan's models only
            ["Inference:Hosts:0:Url"] = Model.Url,
            ["Inference:Hosts:0:Models:0"] = ScriptedModelHostDouble.Model,
        };

        public override async Task InitializeAsync()
        {
            Model = await ScriptedModelHostDouble.StartAsync();
            foreach (var (key, value) in Shared())
                Set(key, value);
            Set("Replies:Role", "Ui");
            await base.InitializeAsync();
        }

        /// <summary>Another instance of the fleet: a process of its own that runs reply jobs and serves pages.</summary>
        public Task<WebProcess> StartInstanceAsync()
        {
            var settings = Shared();
            settings["ConnectionStrings:Postgres"] = ConnectionString;
            settings["Redis:Configuration"] = TestServices.Redis;
            settings["Replies:KeyPrefix"] = ReplyKeyPrefix;
            settings["SignIn:AttemptsPerMinute"] = "100000";
            settings["AllowedHosts"] = "*";
            return WebProcess.StartAsync(settings);
        }

        public async Task<IPage> PageOnAsync(string baseUrl)
        {
            var context = await Browser.NewContextAsync(new() { BaseURL = baseUrl, ViewportSize = new() { Width = 1280, Height = 800 } });
            context.SetDefaultTimeout(20_000);
            return await context.NewPageAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Model.DisposeAsync();
        }
    }

    /// <summary>Signs up a new account on the page's site and waits for the chat to be usable; returns its email.</summary>
    internal static async Task<string> RegisterAsync(IPage page)
    {
        var email = $"fleet-{Guid.NewGuid():N}@example.com";
        await page.GotoAsync("/Account/Register");
        await page.GetByTestId("register-email").FillAsync(email);
        await page.GetByTestId("register-password").FillAsync(Password);
        await page.GetByTestId("register-confirm").FillAsync(Password);
        await page.GetByTestId("register-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();
        return email;
    }

    private static async Task LogInAsync(IPage page, string email)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();
    }

    private async Task<Message> StoredReplyAsync(Guid conversation)
    {
        await using var db = await fleet.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Messages.AsNoTracking().SingleAsync(m => m.ConversationId == conversation && m.Role == MessageRole.Assistant);
    }

    private async Task<List<UsageRecord>> ChatUsageAsync(IEnumerable<Guid> replies)
    {
        var ids = replies.ToList();
        await using var db = await fleet.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.UsageRecords.AsNoTracking().Where(u => u.Source == UsageSource.Chat && ids.Contains(u.CompletionId!.Value)).ToListAsync();
    }

    /// <summary>The reply's one usage row, written just after its ending is stored.</summary>
    private async Task<UsageRecord> UsageRowAsync(Guid reply)
    {
        while (true)
        {
            var rows = await ChatUsageAsync([reply]);
            if (rows.Count > 0)
                return Assert.Single(rows);
            await Task.Delay(50); // polling a condition
        }
    }

    private static Guid ConversationOf(IPage page) => Guid.Parse(new Uri(page.Url).Segments[^1]);

    [Fact]
    public async Task AReplyStartedOnOneInstanceStreamsLiveOnAnotherAndIsStoppedFromThere()
    {
        await using var a = await fleet.StartInstanceAsync(); // the only instance running replies
        var onA = await fleet.PageOnAsync(a.BaseUrl);
        var email = await RegisterAsync(onA);
        // The plan allows only the host's model: the picker offers it, not the shipped one the app also serves.
        await Expect(onA.GetByTestId("model-picker").Locator("input")).ToHaveValueAsync(ScriptedModelHostDouble.Model);
        await ChatFlowTests.SendAsync(onA, "count slowly");
        await fleet.Model.Asked.ReadAsync();
        fleet.Model.Release("one ", "two ");
        var replyOnA = onA.GetByTestId("message-assistant");
        await Expect(replyOnA).ToContainTextAsync("one two");

        // The same user on another instance, opening the same chat while it is written.
        var onB = await fleet.NewPageAsync();
        await LogInAsync(onB, email);
        await onB.GotoAsync($"/chat/{ConversationOf(onA)}");
        var replyOnB = onB.GetByTestId("message-assistant");
        await Expect(replyOnB).ToHaveAttributeAsync("data-status", "streaming");
        await Expect(replyOnB).ToContainTextAsync("one two");
        fleet.Model.Release("three ");
        await Expect(replyOnB).ToContainTextAsync("one two three");
        await Expect(replyOnA).ToContainTextAsync("one two three");

        await onB.GetByTestId("stop-button").ClickAsync();

        await Expect(replyOnB).ToHaveAttributeAsync("data-status", "stopped");
        await Expect(replyOnA).ToHaveAttributeAsync("data-status", "stopped");
        var stored = await StoredReplyAsync(ConversationOf(onA));
        Assert.Equal(("one two three ", CompletionStatus.Stopped), (stored.Content, stored.Status));
        var usage = await UsageRowAsync(stored.Id);
        Assert.Equal(CompletionStatus.Stopped, usage.Status);
        Assert.True(usage.CompletionTokens > 0); // counted from the text: a remote host's stopped stream reports none
    }

    [Fact]
    public async Task WhenTheInstanceRunningAReplyIsKilledAnotherFinishesItFromTheTextWrittenBeforeTheKill()
    {
        await using var a = await fleet.StartInstanceAsync();
        var page = await fleet.NewPageAsync(); // this app: pages only
        await RegisterAsync(page);
        await ChatFlowTests.SendAsync(page, "tell me a story");
        await fleet.Model.Asked.ReadAsync(); // asked by A, the only instance running replies
        fleet.Model.Release("Once ", "upon ");
        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToContainTextAsync("Once upon");
        var conversation = ConversationOf(page);
        while ((await StoredReplyAsync(conversation)).Content != "Once upon ")
            await Task.Delay(20); // saved with every piece here; polling a condition

        await a.KillAsync(); // no shutdown, no hand-over: its claim on the job just stops being renewed
        await using var b = await fleet.StartInstanceAsync();

        var resumed = await fleet.Model.Asked.ReadAsync(); // b took the job over after Replies:ClaimAfter
        Assert.Equal(("tell me a story", "Once upon "), (resumed.LastMessage, resumed.ContinueFrom));
        fleet.Model.Release("a time.", "<end>");
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete");
        await Expect(reply.Locator(".markdown")).ToHaveTextAsync("Once upon a time.");
        var stored = await StoredReplyAsync(conversation);
        Assert.Equal(("Once upon a time.", CompletionStatus.Complete, 2), (stored.Content, stored.Status, stored.Attempt));
        Assert.Equal(CompletionStatus.Complete, (await UsageRowAsync(stored.Id)).Status);
    }

    [Fact]
    public async Task FiftyRepliesStartedAtOnceOverTwoInstancesAllCompleteWithOneUsageRowEach()
    {
        fleet.Model.AutoReply = true;
        try
        {
            await using var a = await fleet.StartInstanceAsync();
            await using var b = await fleet.StartInstanceAsync();
            using var scope = fleet.Services.CreateScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = new AppUser { UserName = $"fifty-{Guid.NewGuid():N}@example.com", Email = $"fifty-{Guid.NewGuid():N}@example.com" };
            Assert.True((await users.CreateAsync(user, Password)).Succeeded);
            var store = fleet.Services.GetRequiredService<ConversationStore>();
            var jobs = fleet.Services.GetRequiredService<ReplyJobs>();

            var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
            {
                var chat = await store.CreateAsync(user.Id, ScriptedModelHostDouble.Model);
                var question = await store.AddUserMessageAsync(user.Id, chat.Id, null, $"question {i}");
                return (await jobs.StartAsync(user.Id, chat.Id, question!.Id))!.Value;
            }));
            var endings = await Task.WhenAll(replies.Select(async reply =>
            {
                var (text, status) = ("", CompletionStatus.Queued);
                await foreach (var update in jobs.FollowAsync(user.Id, reply))
                    (text, status) = (text[..Math.Min(update.Offset, text.Length)] + update.Text, update.Status);
                return (text, status);
            }));

            Assert.All(endings, ending => Assert.Equal((ScriptedModelHostDouble.AutoText, CompletionStatus.Complete), ending));
            var usage = await ChatUsageAsync(replies);
            while (usage.Count < replies.Length) // each row is written just after its reply's ending; polling a condition
            {
                await Task.Delay(50);
                usage = await ChatUsageAsync(replies);
            }
            Assert.Equal(replies.Order(), usage.Select(u => u.CompletionId!.Value).Order());
            Assert.All(usage, row => Assert.Equal(CompletionStatus.Complete, row.Status));
        }
        finally
        {
            fleet.Model.AutoReply = false;
        }
    }
}
