using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Replies;
using ChatBlazor.Web.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Telemetry;

/// <summary>A real Prometheus scrapes the running app; a chat reply's figures come back through its query API.</summary>
public class PrometheusScrapeTests(KestrelApp app) : IClassFixture<KestrelApp>, IAsyncLifetime
{
    private const string Job = "chatblazor-web";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);
    private PrometheusServer _prometheus = default!;

    public async Task InitializeAsync() => _prometheus = await PrometheusServer.StartAsync(new Uri(app.BaseUrl).Authority, Job);

    public async Task DisposeAsync() => await _prometheus.DisposeAsync();

    /// <summary>A chat reply of a few tokens from the app's own model, through the reply job bus, followed to its end.</summary>
    private async Task<CompletionStatus> ChatReplyAsync()
    {
        var (user, _) = await app.UserWithKeyAsync();
        var store = app.Services.GetRequiredService<ConversationStore>();
        var replies = app.Services.GetRequiredService<ReplyJobs>();
        var chat = await store.CreateAsync(user, "chatblazor-mini", new ConversationSettings { MaxTokens = 8 });
        var question = await store.AddUserMessageAsync(user, chat.Id, null, "What can you do?");
        var reply = (await replies.StartAsync(user, chat.Id, question!.Id))!.Value;
        var status = CompletionStatus.Queued;
        using var timeout = new CancellationTokenSource(Within); // a guard against hanging, not a timing
        await foreach (var update in replies.FollowAsync(user, reply, timeout.Token))
            status = update.Status;
        return status;
    }

    [Fact]
    public async Task AChatReplysMetricsAreReadBackThroughPrometheus()
    {
        Assert.Equal(1, await _prometheus.WaitForAsync($"up{{job=\"{Job}\"}}", v => v == 1, Within));

        Assert.Contains(await ChatReplyAsync(), new[] { CompletionStatus.Complete, CompletionStatus.Length });

        // Counters of the whole test process (other classes reply too): at least this reply's.
        Assert.True(await _prometheus.WaitForAsync(
            "sum(chatblazor_replies_finished_total{model=\"chatblazor-mini\",source=\"chat\",status=~\"complete|length\"})", v => v >= 1, Within) >= 1);
        Assert.True(await _prometheus.WaitForAsync(
            "sum(chatblazor_replies_started_total{model=\"chatblazor-mini\",source=\"chat\"})", v => v >= 1, Within) >= 1);
        Assert.True(await _prometheus.WaitForAsync(
            "sum(chatblazor_reply_time_to_first_token_seconds_count{model=\"chatblazor-mini\",source=\"chat\"})", v => v >= 1, Within) >= 1);
        Assert.True(await _prometheus.WaitForAsync("sum(chatblazor_reply_jobs_wait_seconds_count)", v => v >= 1, Within) >= 1);
        Assert.True(await _prometheus.WaitForAsync(
            "sum(chatblazor_generation_tokens_total{model_name=\"chatblazor-mini\"})", v => v >= 1, Within) >= 1);
        Assert.True(await _prometheus.WaitForAsync(
            "sum(chatblazor_limits_decisions_total{outcome=\"admitted\"})", v => v >= 1, Within) >= 1);
    }
}
