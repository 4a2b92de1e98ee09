using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Routing;
using ChatBlazor.Testing;
using ChatBlazor.Web.Admin.Models;
using ChatBlazor.Web.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>
/// Model settings and the auto model against the app: the embedded chatblazor-mini and two remote hosts over HTTP,
/// one that refuses every completion before its first token ("flaky") and one that answers ("steady").
/// </summary>
public class ModelRoutingTests(ModelRoutingTests.Factory app) : IClassFixture<ModelRoutingTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public ModelHostDouble Flaky { get; private set; } = null!;
        public ModelHostDouble Steady { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            Flaky = await ModelHostDouble.StartAsync("flaky", fails: true);
            Steady = await ModelHostDouble.StartAsync("steady", fails: false);
            Set("Inference:Hosts:0:Url", Flaky.Url);
            Set("Inference:Hosts:0:Models:0", "flaky");
            Set("Inference:Hosts:1:Url", Steady.Url);
            Set("Inference:Hosts:1:Models:0", "steady");
            await base.InitializeAsync();
        }

        public HttpClient Client(string key)
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return client;
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Flaky.DisposeAsync();
            await Steady.DisposeAsync();
        }
    }

    private ModelAdmin Admin => app.Services.GetRequiredService<ModelAdmin>();

    private static object Chat(string model, string text = "Hello!") => new { model, messages = new[] { new { role = "user", content = text } }, max_tokens = 16 };

    private async Task<string[]> ListedAsync(string key)
    {
        var list = await app.Client(key).GetFromJsonAsync<JsonElement>("/v1/models");
        return [.. list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];
    }

    private async Task<T> InDbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    [Fact]
    public async Task AutoFallsBackWhenTheChosenHostFailsBeforeItsFirstTokenAndRecordsTheModelThatAnswered()
    {
        await Admin.SetRulesAsync(AuditActor.Shell, """[{ "name": "Remote first", "targets": ["flaky", "steady"] }]""");
        var (userId, key) = await app.UserWithKeyAsync();
        Assert.Contains("auto", await ListedAsync(key));
        var askedBefore = app.Flaky.Completions;

        // Through /v1.
        var response = await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("auto"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ModelHostDouble.AnswerOf("steady"), body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("steady", body.GetProperty("model").GetString()); // the model that answered, not "auto"
        Assert.True(app.Flaky.Completions > askedBefore, "the flaky host was tried first");
        Assert.Equal(["steady"], await InDbAsync(db => db.UsageRecords.Where(u => u.UserId == userId).Select(u => u.Model).ToListAsync()));

        // Through a chat reply (a job on the reply queue, continued by whichever worker takes it).
        var store = app.Services.GetRequiredService<ConversationStore>();
        var conversation = await store.CreateAsync(userId, AutoRouter.Model);
        var question = await store.AddUserMessageAsync(userId, conversation.Id, null, "Hello there");
        var replyId = await app.Services.GetRequiredService<ReplyJobs>().StartAsync(userId, conversation.Id, question!.Id);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            while ((await InDbAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.Id == replyId))).Status is CompletionStatus.Queued or CompletionStatus.Streaming)
                await Task.Delay(50, timeout.Token); // polling with a deadline: the reply runs on the worker
        var reply = await InDbAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.Id == replyId));
        Assert.Equal(CompletionStatus.Complete, reply.Status);
        Assert.Equal(ModelHostDouble.AnswerOf("steady"), reply.Content);
        Assert.Equal("steady", reply.Model);
        // The usage row is written just after the reply's ending is stored: wait for it too.
        var usageModels = new List<string>();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            while ((usageModels = await InDbAsync(db => db.UsageRecords.Where(u => u.CompletionId == replyId).Select(u => u.Model).ToListAsync())).Count == 0)
                await Task.Delay(50, timeout.Token); // polling with a deadline
        Assert.Equal(["steady"], usageModels);
        Assert.Equal(AutoRouter.Model, await InDbAsync(db => db.Conversations.Where(c => c.Id == conversation.Id).Select(c => c.Model).SingleAsync()));
    }

    [Fact]
    public async Task ADisabledModelLeavesTheListsAndRequestsNamingItGetModelNotFoundUntilReEnabled()
    {
        var (_, key) = await app.UserWithKeyAsync();
        var admin = new AuditActor("admin-id", "admin@example.com");
        var pipeline = app.Services.GetRequiredService<CompletionPipeline>();
        var free = app.Services.GetRequiredService<PlanCatalog>().For("Free");

        await Admin.SetEnabledAsync(admin, "steady", false);

        Assert.DoesNotContain("steady", await ListedAsync(key));
        Assert.DoesNotContain(pipeline.ModelsFor(free), m => m.Name == "steady");
        var refused = await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("steady"));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("model_not_found", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
        var entry = await InDbAsync(db => db.AuditEntries.OrderByDescending(e => e.Id).FirstAsync(e => e.Target == "steady"));
        Assert.Equal((AuditActions.ModelChange, "admin@example.com", "enabled: yes → no"), (entry.Action, entry.ActorEmail, entry.Details));

        await Admin.SetEnabledAsync(admin, "steady", true);

        Assert.Contains("steady", await ListedAsync(key));
        Assert.Equal(HttpStatusCode.OK, (await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("steady"))).StatusCode);
    }

    [Fact]
    public async Task PlansChosenForAModelReplaceTheConfiguredRule()
    {
        var (_, key) = await app.UserWithKeyAsync("Pro");
        var admin = new AuditActor("admin-id", "admin@example.com");

        await Admin.SetPlansAsync(admin, "chatblazor-mini", ["Team"]);
        Assert.DoesNotContain("chatblazor-mini", await ListedAsync(key));
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("chatblazor-mini"))).StatusCode);

        await Admin.SetPlansAsync(admin, "chatblazor-mini", []);
        Assert.Contains("chatblazor-mini", await ListedAsync(key));
    }

    [Fact]
    public async Task AddingAndRemovingAHostAtRunTimeIsCheckedAndAudited()
    {
        var admin = new AuditActor("admin-id", "admin@example.com");
        var (_, key) = await app.UserWithKeyAsync();

        Assert.Contains("http(s) URL", (await Assert.ThrowsAsync<ModelAdminException>(() => Admin.AddHostAsync(admin, "ftp://x", ["m"], 4096))).Message);
        Assert.Contains("already exists", (await Assert.ThrowsAsync<ModelAdminException>(() => Admin.AddHostAsync(admin, app.Steady.Url, ["steady"], 4096))).Message);
        Assert.Contains("no config.json", (await Assert.ThrowsAsync<ModelAdminException>(() => Admin.AddFolderAsync(admin, "empty", Path.GetTempPath()))).Message);
        Assert.Contains("comes from configuration", (await Assert.ThrowsAsync<ModelAdminException>(() => Admin.RemoveAsync(admin, "steady"))).Message);

        // The same host under a second name: a model an operator adds without a restart.
        await Admin.AddHostAsync(admin, app.Steady.Url, ["steady-2"], 8192);
        Assert.Contains("steady-2", await ListedAsync(key));
        Assert.Equal(HttpStatusCode.OK, (await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("steady-2"))).StatusCode);

        await Admin.RemoveAsync(admin, "steady-2");
        Assert.DoesNotContain("steady-2", await ListedAsync(key));
        var actions = await InDbAsync(db => db.AuditEntries.Where(e => e.Target == "steady-2").OrderBy(e => e.Id).Select(e => e.Action).ToListAsync());
        Assert.Equal([AuditActions.ModelAdd, AuditActions.ModelRemove], actions);
    }

    [Fact]
    public async Task TheHealthChecksHaveARowForEveryRemoteHostIncludingOnesAddedAtRunTime()
    {
        var admin = new AuditActor("admin-id", "admin@example.com");
        await Admin.AddHostAsync(admin, "http://127.0.0.1:1", ["ghost"], 4096); // nothing listens on port 1
        try
        {
            var history = new HealthHistory(TimeProvider.System);
            history.Record(await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync());
            var rows = history.Snapshot();

            HealthSample Row(string url) => rows.Single(r => r.Key.StartsWith("inference host ", StringComparison.Ordinal) && r.Key.TrimEnd('/').EndsWith(url.TrimEnd('/'), StringComparison.Ordinal)).Value[^1];
            Assert.Equal(HealthStatus.Healthy, Row(app.Steady.Url).Status);
            Assert.Equal(HealthStatus.Healthy, Row(app.Flaky.Url).Status); // it lists its models; only its completions fail
            Assert.Equal(HealthStatus.Unhealthy, Row("127.0.0.1:1").Status);
            Assert.Contains("unreachable", Row("127.0.0.1:1").Description);
            Assert.DoesNotContain("inference hosts", rows.Keys); // the hosts, not the check that covers them
        }
        finally
        {
            await Admin.RemoveAsync(admin, "ghost");
        }
    }

    [Fact]
    public async Task RulesNamingUnknownModelsOrPlansAreRefused()
    {
        Assert.Contains("'nope'", (await Assert.ThrowsAsync<ModelAdminException>(() =>
            Admin.SetRulesAsync(AuditActor.Shell, """[{ "name": "x", "targets": ["nope"] }]"""))).Message);
        Assert.Contains("'Gold'", (await Assert.ThrowsAsync<ModelAdminException>(() =>
            Admin.SetRulesAsync(AuditActor.Shell, """[{ "name": "x", "plans": ["Gold"], "targets": ["steady"] }]"""))).Message);
        Assert.Contains("not valid JSON", (await Assert.ThrowsAsync<ModelAdminException>(() => Admin.SetRulesAsync(AuditActor.Shell, "[{"))).Message);
    }
}
