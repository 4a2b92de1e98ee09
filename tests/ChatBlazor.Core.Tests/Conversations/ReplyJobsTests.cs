using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using Microsoft.EntityFrameworkCore;
using ChatBlazor.Core.Orchestration;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Serving;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatBlazor.Core.Tests.Conversations;

public sealed class ReplyJobsTests(ConversationDatabase database) : IClassFixture<ConversationDatabase>
{
    /// <summary>
    /// Test double: an engine whose chunks the test hands out one at a time, so every step of a reply can be observed.
    /// <see cref="Asked"/> yields each time the job asks for the next chunk (after it has handled the previous one).
    /// </summary>
    private sealed class SteppedEngineDouble : IInferenceEngine
    {
        private readonly Channel<Func<GenerationChunk>> _chunks = Channel.CreateUnbounded<Func<GenerationChunk>>();
        private readonly Channel<bool> _asked = Channel.CreateUnbounded<bool>();

        public IReadOnlyList<ModelInfo> Models { get; } = [new("double", 64, Temperature: 0.5)];
        /// <summary>Every request, in order: the reply's, then the title's after a first complete reply.</summary>
        public List<CompletionRequest> Requests { get; } = [];
        public CompletionRequest? Request => Requests.FirstOrDefault();
        public ChannelReader<bool> Asked => _asked.Reader;

        public void Send(string text, FinishReason? finish = null) =>
            _chunks.Writer.TryWrite(() => new GenerationChunk(text, [], FinishReason: finish, Usage: finish is null ? null : new GenerationUsage(7, 3)));

        /// <summary>The next chunk fails, as a remote host dying mid-stream does.</summary>
        public void Fail(Exception error) => _chunks.Writer.TryWrite(() => throw error);

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            lock (Requests)
                Requests.Add(request);
            while (true)
            {
                _asked.Writer.TryWrite(true);
                var chunk = (await _chunks.Reader.ReadAsync(cancellationToken))();
                yield return chunk;
                if (chunk.FinishReason is not null)
                    yield break;
            }
        }

        public int CountChatTokens(string model, IReadOnlyList<Inference.Chat.ChatMessage> messages) => messages.Sum(m => 2 + m.Content.Length);
    }

    private readonly ConversationStore _store = new(database);
    private readonly SteppedEngineDouble _engine = new();

    private static readonly PlanCatalog _plans = new(new Dictionary<string, Plan>
    {
        ["Free"] = new("Free", RequestsPerMinute: 1000, TokensPerMinute: 1_000_000, TokensPerDay: 10_000_000, []),
        ["Tiny"] = new("Tiny", RequestsPerMinute: 1, TokensPerMinute: 1_000, TokensPerDay: 10_000, []),
    }, "Free");

    private readonly RateLimiter _limiter = new(new MemoryLimitCounters(TimeProvider.System), new MemoryLimitCounters(TimeProvider.System), TimeProvider.System, NullLogger<RateLimiter>.Instance);

    private ReplyJobs Jobs() => new(_store, _engine, _limiter, new UserPlans(database, _plans), new UsageLedger(database, NullLogger<UsageLedger>.Instance),
        NullLogger<ReplyJobs>.Instance, saveInterval: TimeSpan.Zero);

    private async Task<(string User, Guid Chat, Guid Question)> AskAsync(string text, ConversationSettings? settings = null)
    {
        var user = await database.NewUserAsync();
        var chat = await _store.CreateAsync(user, "double", settings);
        var question = await _store.AddUserMessageAsync(user, chat.Id, null, text);
        return (user, chat.Id, question!.Id);
    }

    private async Task<Message> StoredAsync(string user, Guid chat, Guid reply) =>
        (await _store.GetAsync(user, chat))!.Messages.Single(m => m.Id == reply);

    [Fact]
    public async Task AReplyIsSavedAsItStreamsAndEndsCompleteWithItsFigures()
    {
        var (user, chat, question) = await AskAsync("count");
        var reply = (await Jobs().StartAsync(user, chat, question))!;

        await _engine.Asked.ReadAsync();
        _engine.Send("1 2");
        await _engine.Asked.ReadAsync(); // "1 2" handled, and saved before the next chunk is asked for
        var partial = await StoredAsync(user, chat, reply.Id);
        Assert.Equal(("1 2", MessageStatus.Streaming), (partial.Content, partial.Status));

        _engine.Send(" 3", FinishReason.Stop);
        var final = await reply.FollowAsync().LastAsync();

        Assert.Equal(new ReplySnapshot("1 2 3", MessageStatus.Complete), final);
        var stored = await StoredAsync(user, chat, reply.Id);
        Assert.Equal(("1 2 3", MessageStatus.Complete, "stop", 3), (stored.Content, stored.Status, stored.FinishReason, stored.CompletionTokens));
        Assert.NotNull(stored.TimeToFirstTokenMs);
        Assert.Equal(0.5, _engine.Request!.Sampling.Temperature); // the model's default: the conversation sets none
    }

    [Fact]
    public async Task AFollowerThatArrivesLateGetsEverythingSoFarThenTheRest()
    {
        var (user, chat, question) = await AskAsync("count");
        var jobs = Jobs();
        var reply = (await jobs.StartAsync(user, chat, question))!;
        await _engine.Asked.ReadAsync();
        _engine.Send("a");
        await _engine.Asked.ReadAsync();
        _engine.Send("b");
        await _engine.Asked.ReadAsync();

        // A reload: the page finds the live reply by id and follows it.
        await using var follower = jobs.Find(reply.Id)!.FollowAsync().GetAsyncEnumerator();
        Assert.True(await follower.MoveNextAsync());
        Assert.Equal(new ReplySnapshot("ab", MessageStatus.Streaming), follower.Current);

        _engine.Send("c", FinishReason.Stop);
        var seen = new List<ReplySnapshot>();
        while (await follower.MoveNextAsync())
            seen.Add(follower.Current);
        Assert.Equal(new ReplySnapshot("abc", MessageStatus.Complete), seen[^1]);
        Assert.Null(jobs.Find(reply.Id));
    }

    [Fact]
    public async Task StopEndsTheReplyAndKeepsWhatWasWritten()
    {
        var (user, chat, question) = await AskAsync("talk");
        var jobs = Jobs();
        var reply = (await jobs.StartAsync(user, chat, question))!;
        await _engine.Asked.ReadAsync();
        _engine.Send("Once upon");
        await _engine.Asked.ReadAsync();

        Assert.True(jobs.Stop(reply.Id));
        var final = await reply.FollowAsync().LastAsync();

        Assert.Equal(new ReplySnapshot("Once upon", MessageStatus.Stopped), final);
        Assert.Equal(("Once upon", MessageStatus.Stopped), ((await StoredAsync(user, chat, reply.Id)).Content, (await StoredAsync(user, chat, reply.Id)).Status));
    }

    [Fact]
    public async Task AnEngineFailureIsStoredAsFailedWithAReasonTheUserCanRead()
    {
        var (user, chat, question) = await AskAsync("hi");
        var reply = (await Jobs().StartAsync(user, chat, question))!;
        await _engine.Asked.ReadAsync();

        _engine.Send("partial");
        await _engine.Asked.ReadAsync();

        _engine.Fail(new EngineUnavailableException("connection reset"));
        var final = await reply.FollowAsync().LastAsync();

        Assert.Equal(new ReplySnapshot("partial", MessageStatus.Failed), final);
        var stored = await StoredAsync(user, chat, reply.Id);
        Assert.Equal(("partial", MessageStatus.Failed), (stored.Content, stored.Status));
        Assert.Contains("server stopped answering", stored.Error);
    }

    [Fact]
    public async Task AMessageTooLongForTheWindowFailsBeforeAnyReplyExists()
    {
        var (user, chat, question) = await AskAsync(new string('x', 100)); // 102 "tokens" in a 64-token window

        await Assert.ThrowsAsync<PromptTooLongException>(() => Jobs().StartAsync(user, chat, question));

        var stored = await _store.GetAsync(user, chat);
        Assert.Equal([question], stored!.Messages.Select(m => m.Id)); // the user's message is kept, no reply was made
    }

    [Fact]
    public async Task AnotherUsersConversationCannotBeAnswered()
    {
        var (_, chat, question) = await AskAsync("mine");
        var stranger = await database.NewUserAsync();

        Assert.Null(await Jobs().StartAsync(stranger, chat, question));
    }

    [Fact]
    public async Task AfterTheFirstCompleteReplyTheModelNamesTheConversation()
    {
        var (user, chat, question) = await AskAsync("count to three");
        var jobs = Jobs();
        var titled = new TaskCompletionSource<(Guid, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        jobs.TitleChanged += (id, title) => titled.TrySetResult((id, title));
        var reply = (await jobs.StartAsync(user, chat, question))!;
        await _engine.Asked.ReadAsync();
        _engine.Send("1 2 3", FinishReason.Stop);
        await reply.FollowAsync().LastAsync();

        await _engine.Asked.ReadAsync(); // the title request
        _engine.Send("\"Counting to three.\"", FinishReason.Stop);

        Assert.Equal((chat, "Counting to three"), await titled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var request = _engine.Requests[1];
        Assert.Equal(Inference.Chat.TitlePrompt.For("count to three"), Assert.Single(request.Messages!).Content);
        Assert.Equal(0, request.Sampling.Temperature);
        Assert.Equal("Counting to three", (await _store.GetAsync(user, chat))!.Title);
    }

    [Fact]
    public async Task AReplySettlesItsReservationToWhatItUsedAndWritesAUsageRow()
    {
        var (user, chat, question) = await AskAsync("count");
        var reply = (await Jobs().StartAsync(user, chat, question))!;
        await _engine.Asked.ReadAsync();
        _engine.Send("1 2 3", FinishReason.Stop); // the double reports 7 prompt + 3 completion tokens
        await reply.FollowAsync().LastAsync();
        await _engine.Asked.ReadAsync(); // the title request comes after the settlement and the usage row

        var daily = await _limiter.DailyTokensAsync(user, _plans.Default);
        Assert.Equal(10, daily.Limit - daily.Remaining);
        await using var db = database.CreateDbContext();
        var row = await db.UsageRecords.SingleAsync(u => u.UserId == user);
        Assert.Equal((UsageSource.Chat, "double", 7, 3, "complete", (Guid?)null), (row.Source, row.Model, row.PromptTokens, row.CompletionTokens, row.Status, row.ApiKeyId));
    }

    [Fact]
    public async Task OverItsLimitAReplyIsRefusedNamingTheLimitAndTheQuestionStaysStored()
    {
        var (user, chat, question) = await AskAsync("first");
        await using (var db = database.CreateDbContext())
            await db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s.SetProperty(u => u.Plan, "Tiny"));
        var jobs = Jobs();
        await jobs.StartAsync(user, chat, question); // the one request a minute the Tiny plan allows
        var second = await _store.AddUserMessageAsync(user, chat, question, "second");

        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => jobs.StartAsync(user, chat, second!.Id));

        Assert.Contains("requests per minute", refused.Message);
        Assert.Contains("Tiny plan", refused.Message);
        Assert.True(refused.RetryAt > DateTimeOffset.UtcNow && refused.RetryAt <= DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Contains((await _store.GetAsync(user, chat))!.Messages, m => m.Content == "second");
    }
}
