using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Replies;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Api;

/// <summary>A plan's ConcurrentReplies counts chat replies and API completions together.</summary>
public class ConcurrentRepliesTests(ConcurrentRepliesTests.Factory app) : IClassFixture<ConcurrentRepliesTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public ReleasedEngineDouble Engine { get; } = new("released");

        public Factory()
        {
            SetPlan("One", requestsPerMinute: 100, tokensPerMinute: 1_000_000, tokensPerDay: 1_000_000);
            Set("Plans:One:ConcurrentReplies", "1");
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IInferenceEngine>(Engine));
        }
    }

    [Fact]
    public async Task WhileAChatReplyRunsTheApiIsRefusedWithA429AndAcceptedOnceItEnds()
    {
        var (user, key) = await app.UserWithKeyAsync("One");
        var store = app.Services.GetRequiredService<ConversationStore>();
        var jobs = app.Services.GetRequiredService<ReplyJobs>();
        var chat = await store.CreateAsync(user, "released");
        var question = await store.AddUserMessageAsync(user, chat.Id, null, "a long answer please");
        var reply = (await jobs.StartAsync(user, chat.Id, question!.Id))!.Value;
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var request = new { model = "released", messages = new[] { new { role = "user", content = "meanwhile" } }, max_tokens = 8 };

        var refused = await client.PostAsJsonAsync("/v1/chat/completions", request);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var error = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("concurrent_requests_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("1 reply in progress", error.GetProperty("message").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);

        app.Engine.Release("done", "<end>");
        await foreach (var update in jobs.FollowAsync(user, reply))
            if (update.Status.IsFinal())
                break;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
            while (!await db.UsageRecords.AnyAsync(u => u.CompletionId == reply)) // settled: its place is free by then
                await Task.Delay(20);
        var accepted = client.PostAsJsonAsync("/v1/chat/completions", request);
        app.Engine.Release("ok", "<end>");
        Assert.Equal(HttpStatusCode.OK, (await accepted).StatusCode);
    }
}
