using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Usage;
using ChatBlazor.Web.Data;
using Hangfire;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E.Admin;

/// <summary>The usage and feedback pages in Chromium, against the app as shipped (chatblazor-mini) and Hangfire on PostgreSQL.</summary>
public class UsageAdminTests(UsageAdminTests.App app) : IClassFixture<UsageAdminTests.App>
{
    public sealed class App : BrowserApp
    {
        // Job servers look for work every half second, so "Aggregate now" runs within the test's patience.
        public App() => Set("Jobs:PollInterval", "00:00:00.500");
    }

    private const string Password = "Str0ng!pass";

    private async Task<IPage> AdminPageAsync()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        await using (var scope = app.Services.CreateAsyncScope())
            await DatabaseSetup.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, Password, Roles.Admin, "Free");
        var page = await app.NewPageAsync();
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-title")).ToBeVisibleAsync();
        return page;
    }

    private AppDbContext Db() => app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();

    /// <summary>The states the "Aggregate now" job went through, newest first, with their reasons and exceptions.</summary>
    private async Task<string> AggregationJobHistoryAsync()
    {
        await using var db = Db();
        var audit = await db.AuditEntries.Where(e => e.Action == AuditActions.UsageAggregate).OrderByDescending(e => e.At).FirstOrDefaultAsync();
        if (audit?.Details is null)
            return "never enqueued (no audit entry)";
        var jobId = audit.Details.Split(' ')[1];
        var monitoring = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var job = monitoring.JobDetails(jobId);
        var servers = string.Join("; ", monitoring.Servers().Select(s => $"{s.Name}: {s.WorkersCount} workers, heartbeat {s.Heartbeat:O}"));
        var history = job is null ? "no such job" : string.Join(" <- ", job.History.Select(h =>
            $"{h.StateName} at {h.CreatedAt:O}{(h.Reason is null ? "" : $" ({h.Reason})")}{(h.Data.TryGetValue("ExceptionMessage", out var error) ? $": {error}" : "")}"));
        var processing = string.Join(", ", monitoring.ProcessingJobs(0, 10).Select(p => $"{p.Value.Job?.Method.Name} since {p.Value.StartedAt:O}"));
        return $"job {jobId}: {history}; servers: {servers}; processing: [{processing}]; enqueued in default: {monitoring.EnqueuedCount("default")}";
    }

    [Fact]
    public async Task TheUsageChartShowsTheTokensOfRepliesJustMadeOnceTheAggregationJobHasRun()
    {
        var (userId, key) = await app.UserWithKeyAsync();
        using var api = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        foreach (var question in new[] { "Hello!", "What is ChatBlazor?", "Name a colour." })
        {
            var response = await api.PostAsJsonAsync("/v1/chat/completions",
                new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = question } }, max_tokens = 12 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // The figure the chart must show: the ledger's own rows for today, added up here.
        long expected;
        await using (var db = Db())
        {
            var rows = await db.UsageRecords.Where(u => u.UserId == userId).ToListAsync();
            Assert.Equal(3, rows.Count);
            expected = rows.Sum(u => (long)u.PromptTokens + u.CompletionTokens);
        }
        Assert.True(expected > 0);
        var page = await AdminPageAsync();
        await page.GotoAsync("/admin/usage");
        var chart = page.GetByTestId("admin-usage-chart");
        await Expect(chart).ToBeVisibleAsync();

        await Expect(page.GetByTestId("admin-usage-aggregate")).ToBeEnabledAsync(); // enabled once the page is interactive
        await page.GetByTestId("admin-usage-aggregate").ClickAsync();

        // Through Hangfire's queue and a job server: on a loaded machine that can outlast the default wait. The page
        // watches its job for 2 minutes, so the test does too; if the figure never comes, the job's own history says why.
        try
        {
            await Expect(chart.GetByTestId("admin-usage-total-tokens")).ToHaveAttributeAsync("data-tokens", expected.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new() { Timeout = 125_000 });
        }
        catch (PlaywrightException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\nThe aggregation job: {await AggregationJobHistoryAsync()}");
        }
        await Expect(chart.Locator("[data-testid=admin-usage-series][data-series=chatblazor-mini]")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("admin-usage-aggregated")).ToContainTextAsync("Last aggregated");
        await Expect(page.GetByTestId("admin-usage-top-user")).ToHaveCountAsync(1);
        // The button's job went through Hangfire and succeeded (the audit entry names it).
        await using (var db = Db())
        {
            var audit = Assert.Single(await db.AuditEntries.Where(e => e.Action == AuditActions.UsageAggregate).ToListAsync());
            var jobId = audit.Details!.Split(' ')[1];
            var job = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().JobDetails(jobId);
            Assert.Equal(nameof(UsageAggregator.AggregateRecentAsync), job.Job.Method.Name);
            Assert.Equal("Succeeded", job.History.First().StateName); // newest state first
        }
    }

    [Fact]
    public async Task ARatingOpensItsConversationReadOnlyWithTheRatedReplyHighlightedAndTheViewAudited()
    {
        var (owner, _) = await app.UserWithKeyAsync();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        var conversation = new Conversation { UserId = owner, Model = "chatblazor-mini", Title = "Colours" };
        var question = new Message { ConversationId = conversation.Id, Role = MessageRole.User, Content = "Name a colour.", CreatedAt = t0 };
        var first = new Message { ConversationId = conversation.Id, ParentId = question.Id, Role = MessageRole.Assistant, Content = "Blue.", Model = "chatblazor-mini",
            CreatedAt = t0.AddSeconds(1), Status = CompletionStatus.Complete };
        var second = new Message { ConversationId = conversation.Id, ParentId = question.Id, Role = MessageRole.Assistant, Content = "Seven.", Model = "chatblazor-mini",
            CreatedAt = t0.AddSeconds(2), Status = CompletionStatus.Complete, Rating = -1, RatingComment = "Not a colour" };
        conversation.CurrentLeafId = first.Id;
        await using (var db = Db())
        {
            db.Conversations.Add(conversation);
            db.Messages.AddRange(question, first, second);
            await db.SaveChangesAsync();
        }
        var page = await AdminPageAsync();
        await page.GotoAsync("/admin/feedback");
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Not a colour" });

        await row.GetByTestId("admin-feedback-open").ClickAsync();

        var highlighted = page.GetByTestId("admin-conversation-highlight");
        await Expect(highlighted).ToContainTextAsync("Seven.");
        await Expect(highlighted).ToContainTextAsync("Not a colour");
        await Expect(highlighted).ToHaveAttributeAsync("data-visible", "false"); // a version the user paged away from
        await Expect(page.GetByTestId("admin-conversation-message")).ToHaveCountAsync(2); // the question and the other version
        await using (var db = Db())
        {
            var view = Assert.Single(await db.AuditEntries.Where(e => e.Action == AuditActions.ConversationView && e.Target == conversation.Id.ToString()).ToListAsync());
            Assert.Contains(second.Id.ToString(), view.Details);
        }
    }
}
