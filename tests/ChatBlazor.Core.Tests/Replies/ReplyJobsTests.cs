using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Tests.Completions;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatBlazor.Core.Tests.Replies;

/// <summary>Chat replies as jobs on the real Redis queue, run by real workers, stored in the real database.</summary>
public sealed class ReplyJobsTests(PipelineHarness harness) : IClassFixture<PipelineHarness>, IAsyncLifetime
{
    private readonly SteppedEngineDouble _engine = new(contextWindow: 512);
    private readonly List<ReplyWorker> _workers = [];
    private readonly string _keyPrefix = $"{harness.KeyPrefix}{Guid.NewGuid():N}:"; // this test's own job queue
    private ConversationStore Store => harness.Store;

    /// <summary>An instance: its worker (started unless told not to) and the jobs API its pages use.</summary>
    private async Task<(ReplyJobs Jobs, ReplyWorker Worker)> InstanceAsync(bool start = true, TimeSpan? claimAfter = null)
    {
        var options = harness.ReplyOptions(_keyPrefix, claimAfter);
        var pipeline = harness.Pipeline(_engine);
        var bus = new ReplyBus(harness.Redis, options, NullLogger<ReplyBus>.Instance);
        var worker = new ReplyWorker(bus, Store, pipeline, harness.UserPlans, options, NullLogger<ReplyWorker>.Instance);
        _workers.Add(worker);
        if (start)
            await worker.StartAsync(CancellationToken.None);
        return (new ReplyJobs(Store, pipeline, harness.UserPlans, bus, worker, harness.Moderation, NullLogger<ReplyJobs>.Instance), worker);
    }

    private async Task<(string User, Guid Chat, Guid Question)> AskAsync(string text, ConversationSettings? settings = null, string plan = "Free", string model = "double")
    {
        var (user, _) = await harness.UserAsync(plan);
        var chat = await Store.CreateAsync(user, model, settings);
        var question = await Store.AddUserMessageAsync(user, chat.Id, null, text);
        return (user, chat.Id, question!.Id);
    }

    private async Task<Message> StoredAsync(Guid reply) => (await Store.FindAsync(reply))!;

    private static async Task<ReplyUpdate> LastAsync(IAsyncEnumerable<ReplyUpdate> updates)
    {
        ReplyUpdate? last = null;
        await foreach (var update in updates)
            last = update;
        return last!;
    }

    /// <summary>What a page shows after applying every update, as Chat/StreamingMarkdown does.</summary>
    private static async Task<(string Text, CompletionStatus Status)> FollowToTheEndAsync(ReplyJobs jobs, string user, Guid reply)
    {
        var text = new System.Text.StringBuilder();
        var status = CompletionStatus.Queued;
        await foreach (var update in jobs.FollowAsync(user, reply))
        {
            text.Length = Math.Min(update.Offset, text.Length);
            text.Append(update.Text);
            status = update.Status;
        }
        return (text.ToString(), status);
    }

    [Fact]
    public async Task AReplyIsSavedAsItStreamsAndEndsCompleteWithItsFigures()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("count");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;

        await _engine.Asked.ReadAsync();
        // Ends at a separator: the stream redactor holds back nothing that cannot grow into personal data.
        _engine.Send("1, 2, ");
        await _engine.Asked.ReadAsync(); // "1, 2, " handled, and saved before the next chunk is asked for
        Assert.Equal(("1, 2, ", CompletionStatus.Streaming), ((await StoredAsync(reply)).Content, (await StoredAsync(reply)).Status));

        _engine.Send("3", FinishReason.Stop);
        Assert.Equal(("1, 2, 3", CompletionStatus.Complete), await FollowToTheEndAsync(jobs, user, reply));
        var stored = await StoredAsync(reply);
        Assert.Equal(("1, 2, 3", CompletionStatus.Complete, 3), (stored.Content, stored.Status, stored.CompletionTokens));
        Assert.NotNull(stored.TimeToFirstTokenMs);
        Assert.Equal(0.5, _engine.Request!.Sampling.Temperature); // the model's default: the conversation sets none
    }

    [Fact]
    public async Task AFollowerThatArrivesLateGetsEverythingSoFarThenTheRest()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("count");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        await _engine.Asked.ReadAsync();
        _engine.Send("a ");
        await _engine.Asked.ReadAsync();
        _engine.Send("b ");
        await _engine.Asked.ReadAsync();

        // A reload: the page follows the reply by its id, from what it has so far (whole words: the stream redactor
        // holds back a last word that may still grow into personal data).
        await using var follower = jobs.FollowAsync(user, reply).GetAsyncEnumerator();
        Assert.True(await follower.MoveNextAsync());
        Assert.Equal(new ReplyUpdate(0, "a b ", CompletionStatus.Streaming), follower.Current);

        _engine.Send("c", FinishReason.Stop);
        var seen = new List<ReplyUpdate>();
        while (await follower.MoveNextAsync())
            seen.Add(follower.Current);
        Assert.Equal(new ReplyUpdate(0, "a b c", CompletionStatus.Complete), seen[^1]); // the stored reply, whole
    }

    [Fact]
    public async Task AnotherUserCannotFollowOrStopAReply()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("mine");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        var (stranger, _) = await harness.UserAsync();

        Assert.Empty(await jobs.FollowAsync(stranger, reply).ToListAsync());
        Assert.False(await jobs.StopAsync(stranger, reply));

        await _engine.Asked.ReadAsync();
        _engine.Send("ok", FinishReason.Stop);
        Assert.Equal(CompletionStatus.Complete, (await LastAsync(jobs.FollowAsync(user, reply))).Status);
    }

    [Fact]
    public async Task StopEndsTheReplyAndKeepsWhatWasWritten()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("talk");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        await _engine.Asked.ReadAsync();
        _engine.Send("Once upon");
        await _engine.Asked.ReadAsync();

        Assert.True(await jobs.StopAsync(user, reply));

        Assert.Equal(("Once upon", CompletionStatus.Stopped), await FollowToTheEndAsync(jobs, user, reply));
        var stored = await StoredAsync(reply);
        Assert.Equal(("Once upon", CompletionStatus.Stopped), (stored.Content, stored.Status));
        Assert.Equal(CompletionStatus.Stopped, (await UsageRowAsync(reply)).Status);
    }

    [Fact]
    public async Task AReplyStoppedBeforeAnyWorkerTookItEndsAtOnceAndIsSettledWhenItsJobComesUp()
    {
        var (jobs, worker) = await InstanceAsync(start: false);
        var (user, chat, question) = await AskAsync("talk");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;

        Assert.True(await jobs.StopAsync(user, reply));
        Assert.Equal(("", CompletionStatus.Stopped), await FollowToTheEndAsync(jobs, user, reply));
        Assert.Equal(6 + 128, await harness.UsedTodayAsync(user)); // "talk" + a quarter of the window: reserved still

        await worker.StartAsync(CancellationToken.None);
        await WaitUntilAsync(async () => await harness.UsedTodayAsync(user) == 0); // settled to nothing used
        await using var db = harness.Database.CreateDbContext();
        var row = await db.UsageRecords.AsNoTracking().SingleAsync(u => u.CompletionId == reply);
        Assert.Equal((CompletionStatus.Stopped, 0, 0), (row.Status, row.PromptTokens, row.CompletionTokens));
        Assert.Empty(_engine.Requests); // the engine never saw it
    }

    [Fact]
    public async Task AnEngineFailureIsStoredAsFailedWithAReasonTheUserCanRead()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("hi");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        await _engine.Asked.ReadAsync();
        _engine.Send("partial");
        await _engine.Asked.ReadAsync();

        _engine.Fail(new EngineUnavailableException("connection reset"));

        Assert.Equal(("partial", CompletionStatus.Failed), await FollowToTheEndAsync(jobs, user, reply));
        var stored = await StoredAsync(reply);
        Assert.Contains("server stopped answering", stored.Error);
    }

    [Fact]
    public async Task AMessageTooLongForTheWindowIsRefusedBeforeAnyReplyExists()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync(new string('x', 400)); // 402 "tokens", with a reply of 128, in a 512-token window

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => jobs.StartAsync(user, chat, question));

        Assert.Equal(RefusalReason.PromptTooLong, refused.Reason);
        var path = (await Store.PathAsync(user, chat))!.Value.Path;
        Assert.Equal([question], path.Select(m => m.Id)); // the user's message is kept, no reply was made
        Assert.Equal(0, await harness.UsedTodayAsync(user));
    }

    [Fact]
    public async Task AnotherUsersConversationCannotBeAnswered()
    {
        var (jobs, _) = await InstanceAsync();
        var (_, chat, question) = await AskAsync("mine");
        var (stranger, _) = await harness.UserAsync();

        Assert.Null(await jobs.StartAsync(stranger, chat, question));
    }

    [Fact]
    public async Task ThePlansModelListIsEnforcedForChatOnTheServer()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("hi", plan: "OtherOnly", model: "double");

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => jobs.StartAsync(user, chat, question));

        Assert.Equal(RefusalReason.ModelNotAllowed, refused.Reason);
        Assert.Single((await Store.PathAsync(user, chat))!.Value.Path);
        Assert.Empty(_engine.Requests);
    }

    [Fact]
    public async Task AfterTheFirstCompleteReplyTheModelNamesTheConversationOnEveryInstance()
    {
        var (jobs, _) = await InstanceAsync();
        var (elsewhere, _) = await InstanceAsync(); // a second instance's pages hear it too
        var (user, chat, question) = await AskAsync("count to three");
        var titled = new TaskCompletionSource<TitleChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        elsewhere.TitleChanged += change => titled.TrySetResult(change);
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        await _engine.Asked.ReadAsync();
        _engine.Send("1 2 3", FinishReason.Stop);
        await LastAsync(jobs.FollowAsync(user, reply));

        await _engine.Asked.ReadAsync(); // the title request
        _engine.Send("\"Counting to three.\"", FinishReason.Stop);

        Assert.Equal(new TitleChange(chat, user, "Counting to three"), await titled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var request = _engine.Requests[1];
        Assert.Equal(TitlePrompt.For("count to three"), Assert.Single(request.Messages!).Content);
        Assert.Equal(0, request.Sampling.Temperature);
        Assert.Equal("Counting to three", (await Store.PathAsync(user, chat))!.Value.Conversation.Title);
        await using var db = harness.Database.CreateDbContext();
        Assert.Equal(UsageSource.Title, (await db.UsageRecords.SingleAsync(u => u.UserId == user && u.CompletionId != reply)).Source);
    }

    [Fact]
    public async Task AReplySettlesItsReservationToWhatItUsedAndWritesOneUsageRow()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("count");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        await _engine.Asked.ReadAsync();
        _engine.Send("1 2 3", FinishReason.Stop); // "count" is 7 prompt tokens; 3 completion tokens
        await LastAsync(jobs.FollowAsync(user, reply));
        await _engine.Asked.ReadAsync(); // the title request comes after the settlement and the usage row

        Assert.Equal(10, await harness.UsedTodayAsync(user));
        await using var db = harness.Database.CreateDbContext();
        var row = await db.UsageRecords.SingleAsync(u => u.CompletionId == reply);
        Assert.Equal((UsageSource.Chat, "double", 7, 3, CompletionStatus.Complete, (Guid?)null), (row.Source, row.Model, row.PromptTokens, row.CompletionTokens, row.Status, row.ApiKeyId));
    }

    [Fact]
    public async Task OverItsLimitAReplyIsRefusedNamingTheLimitAndTheQuestionStaysStored()
    {
        var (jobs, _) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("first", plan: "Tiny");
        await jobs.StartAsync(user, chat, question); // the one request a minute the Tiny plan allows
        var second = await Store.AddUserMessageAsync(user, chat, question, "second");

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => jobs.StartAsync(user, chat, second!.Id));

        Assert.Contains("requests per minute", refused.Message);
        Assert.Contains("Tiny plan", refused.Message);
        Assert.Contains((await Store.PathAsync(user, chat))!.Value.Path, m => m.Content == "second");
    }

    [Fact]
    public async Task AtShutdownARunningReplyIsHandedToAnotherWorkerWhichFinishesItFromTheSavedText()
    {
        var (first, firstWorker) = await InstanceAsync();
        var (user, chat, question) = await AskAsync("tell me");
        var reply = (await first.StartAsync(user, chat, question))!.Value;
        await _engine.Asked.ReadAsync();
        _engine.Send("Once upon");
        await _engine.Asked.ReadAsync();

        await firstWorker.StopAsync(CancellationToken.None); // no grace here: the reply is handed back at once
        var (second, _) = await InstanceAsync();
        await _engine.Asked.ReadAsync(); // the second worker asks the engine to continue
        Assert.Equal("Once upon", _engine.Requests[^1].AssistantPrefix);
        _engine.Send(" a time", FinishReason.Stop, completionTokens: 2);

        Assert.Equal(("Once upon a time", CompletionStatus.Complete), await FollowToTheEndAsync(second, user, reply));
        var row = await UsageRowAsync(reply);
        Assert.Equal((CompletionStatus.Complete, 9 + 2), (row.Status, row.CompletionTokens)); // "Once upon" counted once, then 2 more
    }

    [Fact]
    public async Task AJobWhoseWorkerWentSilentIsTakenOverAndContinuedFromTheSavedText()
    {
        var (jobs, worker) = await InstanceAsync(start: false, claimAfter: TimeSpan.FromSeconds(1));
        var (user, chat, question) = await AskAsync("tell me");
        var reply = (await jobs.StartAsync(user, chat, question))!.Value;
        // A worker that claimed the job, wrote part of the reply and died: it never renews its claim again.
        var bus = new ReplyBus(harness.Redis, harness.ReplyOptions(_keyPrefix), NullLogger<ReplyBus>.Instance);
        Assert.Single(await bus.ReadNewAsync("dead-worker", 1));
        var dead = (await Store.ClaimReplyAsync(reply))!;
        Assert.Equal(ReplyWrite.Written, await Store.SaveProgressAsync(reply, dead.Attempt, "It was"));

        await worker.StartAsync(CancellationToken.None);
        await _engine.Asked.ReadAsync();
        Assert.Equal("It was", _engine.Requests[^1].AssistantPrefix);
        _engine.Send(" late", FinishReason.Stop, completionTokens: 5);

        Assert.Equal(("It was late", CompletionStatus.Complete), await FollowToTheEndAsync(jobs, user, reply));
        Assert.Equal(ReplyWrite.TakenOver, await Store.SaveProgressAsync(reply, dead.Attempt, "It was something else")); // the dead run is fenced off
        Assert.Equal("It was late", (await StoredAsync(reply)).Content);
    }

    /// <summary>The reply's usage row, written just after its ending is stored.</summary>
    private async Task<UsageRecord> UsageRowAsync(Guid reply)
    {
        await using var db = harness.Database.CreateDbContext();
        await WaitUntilAsync(() => db.UsageRecords.AnyAsync(u => u.CompletionId == reply));
        return await db.UsageRecords.AsNoTracking().SingleAsync(u => u.CompletionId == reply);
    }

    /// <summary>Polls a condition (no timed assertion: the limit only keeps a broken test from hanging).</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
            await Task.Delay(50, timeout.Token);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
            await worker.StopAsync(CancellationToken.None);
    }
}
