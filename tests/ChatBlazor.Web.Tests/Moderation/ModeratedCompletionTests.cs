using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using ChatBlazor.Web.Moderation;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Moderation;

/// <summary>
/// Moderation of completions through the shipped app: /v1 refusals and streams, and the after-completion check of
/// chat replies (<see cref="OutputCheck"/>), with the real rules, the classifier double and the released engine double.
/// </summary>
public class ModeratedCompletionTests(ModeratedCompletionTests.Factory app) : IClassFixture<ModeratedCompletionTests.Factory>
{
    public sealed class Factory : ModerationAppFactory
    {
        public ReleasedEngineDouble Engine { get; } = new("released");

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IInferenceEngine>(Engine));
        }
    }

    private HttpClient Client(string key)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private async Task<T> InDbAsync<T>(Func<AppDbContext, Task<T>> read)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await read(db);
    }

    [Fact]
    public async Task ABlockedApiPromptIsA400ContentPolicyViolationNamingThePolicyAndCostsNothing()
    {
        var (user, key) = await app.UserWithKeyAsync();
        using var client = Client(key);

        var response = await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "released", messages = new[] { new { role = "user", content = $"Please {ModerationSamples.Override}." } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(("invalid_request_error", "content_policy_violation", "messages"),
            (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Equal("Blocked by the jailbreak policy: the message asks to ignore or reveal the system's instructions (rule jailbreak.override). Nothing was sent to the model.",
            error.GetProperty("message").GetString());
        Assert.False(await InDbAsync(db => db.UsageRecords.AnyAsync(u => u.UserId == user)));
        var flag = await InDbAsync(db => db.ModerationFlags.AsNoTracking().SingleAsync(f => f.UserId == user));
        Assert.Equal((ModerationSource.Api, ModerationAction.Block), (flag.Source, flag.Action));
        Assert.NotNull(flag.ApiKeyId);
    }

    [Fact]
    public async Task ACardTheModelLeaksAcrossChunksNeverReachesTheApiStream()
    {
        var (_, key) = await app.UserWithKeyAsync();
        using var client = Client(key);
        var body = """{"model":"released","stream":true,"messages":[{"role":"user","content":"What is on file?"}]}""";
        var sending = client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead);

        app.Engine.Release("On file: ", "4111 1111 ", "1111 ", "1111", " today.", "<end>");
        using var response = await sending;
        var stream = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("1111", stream);
        var content = string.Concat(stream.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out _))
            .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal("On file: [CARD] today.", content);
    }

    [Fact]
    public async Task TheAfterCompletionCheckFlagsAReplyThePolicyFlagsOnce()
    {
        var (user, _) = await app.UserWithKeyAsync();
        var store = app.Services.GetRequiredService<ConversationStore>();
        var chat = await store.CreateAsync(user, "released");
        var question = await store.AddUserMessageAsync(user, chat.Id, null, "Describe the scene");
        var reply = new Message { ConversationId = chat.Id, ParentId = question!.Id, Role = MessageRole.Assistant, Content = "A grim scene [score violence=0.9]", Status = Core.Completions.CompletionStatus.Complete };
        await InDbAsync(async db => { db.Messages.Add(reply); return await db.SaveChangesAsync(); });
        var check = app.Services.GetRequiredService<OutputCheck>();

        var flagId = await check.RunAsync(reply.Id, CancellationToken.None);
        var again = await check.RunAsync(reply.Id, CancellationToken.None); // a retried job

        Assert.NotNull(flagId);
        Assert.Null(again);
        var flag = await InDbAsync(db => db.ModerationFlags.AsNoTracking().SingleAsync(f => f.MessageId == reply.Id));
        Assert.Equal((flagId.Value, ModerationSource.OutputCheck, ModerationDirection.Output, ModerationAction.Flag, "violence", chat.Id),
            (flag.Id, flag.Source, flag.Direction, flag.Action, flag.Category, flag.ConversationId));
    }

    [Fact]
    public async Task ASettledChatReplyIsCheckedByAHangfireJob()
    {
        var (user, _) = await app.UserWithKeyAsync();
        var store = app.Services.GetRequiredService<ConversationStore>();
        var chat = await store.CreateAsync(user, "released");
        var question = await store.AddUserMessageAsync(user, chat.Id, null, "Describe the scene");
        var reply = (await app.Services.GetRequiredService<Core.Replies.ReplyJobs>().StartAsync(user, chat.Id, question!.Id))!.Value;

        app.Engine.Release("A grim scene ", "[score self-harm=0.9]", "<end>");

        // Poll: the reply settles, then a Hangfire server picks the job up; nothing here decides when.
        ModerationFlag? flag = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(120); flag is null && DateTime.UtcNow < deadline; await Task.Delay(100)) // polling a condition
            flag = await InDbAsync(db => db.ModerationFlags.AsNoTracking().SingleOrDefaultAsync(f => f.MessageId == reply));
        Assert.NotNull(flag);
        Assert.Equal((ModerationSource.OutputCheck, ModerationAction.Review, "self-harm"), (flag.Source, flag.Action, flag.Category));
    }
}
