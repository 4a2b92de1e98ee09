using System.Text.Json;
using System.Text.Json.Serialization;
using ChatBlazor.Core.Completions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Core.Replies;

/// <summary>
/// A reply to run: which message it fills and the admitted completion that produces it; when it was enqueued and the
/// W3C <c>traceparent</c> of the span that enqueued it, so the worker that claims it continues the same trace (both
/// null in jobs from before they existed).
/// </summary>
public sealed record ReplyJob(Guid ReplyId, Guid ConversationId, CompletionTicket Ticket, DateTimeOffset? EnqueuedAt = null, string? TraceParent = null);

/// <summary>A job as a worker holds it: its entry in the job stream and what it asks.</summary>
public sealed record ClaimedJob(string EntryId, ReplyJob Job);

/// <summary>
/// One change to a reply's text: from <see cref="Offset"/> on, the text is now <see cref="Text"/> followed by
/// whatever comes next. Usually an append (Offset is the length so far); a run that resumes a reply after its
/// worker died starts where the saved text ends, cutting what the dead run streamed but never saved. An event with a
/// <see cref="Status"/> marks the reply's state from then on.
/// </summary>
public sealed record ReplyEvent(
    [property: JsonPropertyName("o")] int Offset,
    [property: JsonPropertyName("t")] string Text,
    [property: JsonPropertyName("s"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CompletionStatus? Status = null);

/// <summary>A conversation was named by the model: every instance tells its open pages.</summary>
public sealed record TitleChange(Guid ConversationId, string UserId, string Title);

/// <summary>
/// Reply jobs and their live text in Redis, shared by every instance:
/// <list type="bullet">
/// <item>jobs: one stream with a consumer group; workers claim entries, renew them while they run and acknowledge
/// them when done; entries not renewed for a while are claimed again (XAUTOCLAIM) by another worker;</item>
/// <item>each reply's events: a stream of its own, kept while it runs (any page replays it from the start), with a
/// message on the reply's channel for each event, so followers wait on pub/sub instead of polling;</item>
/// <item>stop requests, title changes and "new job" wake-ups on channels.</item>
/// </list>
/// Every multi-step change is one Lua script, so it is atomic. Redis failures surface as <see cref="RedisException"/>.
/// </summary>
public sealed class ReplyBus(IConnectionMultiplexer redis, IOptions<ReplyOptions> options, ILogger<ReplyBus> log)
{
    private const string Group = "workers";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>A reply's events outlive its last one by this much, for pages that open it meanwhile.</summary>
    private static readonly TimeSpan EventsKept = TimeSpan.FromMinutes(10);

    private readonly string _prefix = options.Value.KeyPrefix;
    private RedisKey Jobs => _prefix + "replies:jobs";
    private RedisKey LiveJobs => _prefix + "replies:live";
    private RedisChannel WakeChannel => RedisChannel.Literal(_prefix + "replies:wake");
    private RedisChannel StopChannel => RedisChannel.Literal(_prefix + "replies:stop");
    private RedisChannel TitleChannel => RedisChannel.Literal(_prefix + "replies:titles");
    private RedisKey Events(Guid replyId) => $"{_prefix}reply:{replyId:N}";
    private RedisChannel EventChannel(Guid replyId) => RedisChannel.Literal($"{_prefix}reply:{replyId:N}");
    private RedisKey StopKey(Guid replyId) => $"{_prefix}reply:{replyId:N}:stop";

    private IDatabase Db => redis.GetDatabase();

    // KEYS: jobs, live set. ARGV: job, reply id, wake channel.
    private const string EnqueueScript = """
        local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
        redis.call('SADD', KEYS[2], ARGV[2])
        redis.call('PUBLISH', ARGV[3], '1')
        return id
        """;

    // KEYS: jobs. ARGV: group, consumer, entry ids. Resets the idle time of the entries this consumer still holds
    // and returns them; an entry another worker took over is left alone.
    private const string RenewScript = """
        local mine = {}
        for i = 3, #ARGV do
          local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
          if pending[1] and pending[1][2] == ARGV[2] then
            redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
            table.insert(mine, ARGV[i])
          end
        end
        return mine
        """;

    // KEYS: jobs, live set. ARGV: group, consumer, entry id, reply id. Only the worker holding the entry may end it.
    private const string AckScript = """
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
        if not (pending[1] and pending[1][2] == ARGV[2]) then return 0 end
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
        redis.call('XDEL', KEYS[1], ARGV[3])
        redis.call('SREM', KEYS[2], ARGV[4])
        return 1
        """;

    // KEYS: jobs. ARGV: group, consumer, entry id, job, wake channel. A new entry for the same job, ready at once.
    private const string HandBackScript = """
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
        if not (pending[1] and pending[1][2] == ARGV[2]) then return 0 end
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
        redis.call('XDEL', KEYS[1], ARGV[3])
        redis.call('XADD', KEYS[1], '*', 'job', ARGV[4])
        redis.call('PUBLISH', ARGV[5], '1')
        return 1
        """;

    // KEYS: the reply's events. ARGV: event, channel, time to keep (ms). The channel message carries the entry's id,
    // the id before it and the event, so a follower that has the one before can apply it without reading the stream.
    private const string PublishScript = """
        local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        local previous = last[1] and last[1][1] or '0-0'
        local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        redis.call('PUBLISH', ARGV[2], id .. ' ' .. previous .. ' ' .. ARGV[1])
        return id
        """;

    public async Task EnsureGroupAsync()
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(Jobs, Group, "0-0", createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    public async Task EnqueueAsync(ReplyJob job) =>
        await Db.ScriptEvaluateAsync(EnqueueScript, [Jobs, LiveJobs], [Serialize(job), job.ReplyId.ToString("N"), WakeChannel.ToString()]);

    /// <summary>Jobs no worker has had yet, up to <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<ClaimedJob>> ReadNewAsync(string consumer, int count)
    {
        var entries = await WithGroupAsync(() => Db.StreamReadGroupAsync(Jobs, Group, consumer, StreamPosition.NewMessages, count));
        return await JobsAsync(consumer, entries);
    }

    /// <summary>Jobs whose worker has not renewed them for <paramref name="idle"/>, now this consumer's.</summary>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimStaleAsync(string consumer, TimeSpan idle, int count)
    {
        var claimed = await WithGroupAsync(() => Db.StreamAutoClaimAsync(Jobs, Group, consumer, (long)idle.TotalMilliseconds, "0-0", count));
        return await JobsAsync(consumer, claimed.ClaimedEntries);
    }

    /// <summary>Renews the entries this consumer holds; returns those it still holds.</summary>
    public async Task<IReadOnlySet<string>> RenewAsync(string consumer, IReadOnlyCollection<string> entryIds)
    {
        if (entryIds.Count == 0)
            return new HashSet<string>();
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(RenewScript, [Jobs], [Group, consumer, .. entryIds.Select(id => (RedisValue)id)]))!;
        return result.Select(r => (string)r!).ToHashSet();
    }

    /// <summary>The job is done: its entry goes. False when another worker holds it now.</summary>
    public async Task<bool> AckAsync(string consumer, ClaimedJob claimed) =>
        (long)await Db.ScriptEvaluateAsync(AckScript, [Jobs, LiveJobs], [Group, consumer, claimed.EntryId, claimed.Job.ReplyId.ToString("N")]) == 1;

    /// <summary>Gives a running job back for another worker to continue at once (this one is shutting down).</summary>
    public async Task<bool> HandBackAsync(string consumer, ClaimedJob claimed) =>
        (long)await Db.ScriptEvaluateAsync(HandBackScript, [Jobs], [Group, consumer, claimed.EntryId, Serialize(claimed.Job with { EnqueuedAt = DateTimeOffset.UtcNow }), WakeChannel.ToString()]) == 1;

    /// <summary>Whether the reply still has a job in the queue (waiting, running, or waiting to be taken over).</summary>
    public async Task<bool> HasJobAsync(Guid replyId) => await Db.SetContainsAsync(LiveJobs, replyId.ToString("N"));

    /// <summary>Forgets consumers (stopped processes) that hold nothing and have been idle for <paramref name="idle"/>.</summary>
    public async Task ForgetIdleConsumersAsync(TimeSpan idle)
    {
        foreach (var consumer in await Db.StreamConsumerInfoAsync(Jobs, Group))
            if (consumer.PendingMessageCount == 0 && consumer.IdleTimeInMilliseconds > idle.TotalMilliseconds)
                await Db.StreamDeleteConsumerAsync(Jobs, Group, consumer.Name);
    }

    public async Task PublishAsync(Guid replyId, ReplyEvent replyEvent) =>
        await Db.ScriptEvaluateAsync(PublishScript, [Events(replyId)],
            [JsonSerializer.Serialize(replyEvent, Json), EventChannel(replyId).ToString(), (long)EventsKept.TotalMilliseconds]);

    /// <summary>The reply's events after <paramref name="afterId"/> ("0-0": all of them), oldest first.</summary>
    public async Task<IReadOnlyList<(string Id, ReplyEvent Event)>> EventsAsync(Guid replyId, string afterId)
    {
        var entries = await Db.StreamRangeAsync(Events(replyId), afterId == "0-0" ? "-" : "(" + afterId, "+");
        return [.. entries.Select(e => ((string)e.Id!, Deserialize<ReplyEvent>(e["e"])))];
    }

    /// <summary>Messages on the reply's channel: "id previous-id event".</summary>
    public async Task<ChannelMessageQueue> SubscribeAsync(Guid replyId) => await redis.GetSubscriber().SubscribeAsync(EventChannel(replyId));

    public static (string Id, string Previous, ReplyEvent Event) ParseMessage(string message)
    {
        var parts = message.Split(' ', 3);
        return (parts[0], parts[1], Deserialize<ReplyEvent>(parts[2]));
    }

    /// <summary>Asks whichever worker runs the reply to stop it; a worker that takes the job later sees the request too.</summary>
    public async Task RequestStopAsync(Guid replyId)
    {
        await Db.StringSetAsync(StopKey(replyId), 1, TimeSpan.FromHours(1));
        await redis.GetSubscriber().PublishAsync(StopChannel, replyId.ToString("N"));
    }

    public async Task<bool> StopRequestedAsync(Guid replyId) => await Db.KeyExistsAsync(StopKey(replyId));

    public async Task PublishTitleAsync(TitleChange change) =>
        await redis.GetSubscriber().PublishAsync(TitleChannel, JsonSerializer.Serialize(change, Json));

    /// <summary>Stop requests, title changes and new-job wake-ups, for this instance's worker and pages.</summary>
    public async Task SubscribeAsync(Action<Guid> stop, Action<TitleChange> title, Action wake)
    {
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(StopChannel, (_, message) => stop(Guid.Parse((string)message!)));
        await subscriber.SubscribeAsync(TitleChannel, (_, message) => title(Deserialize<TitleChange>(message)));
        await subscriber.SubscribeAsync(WakeChannel, (_, _) => wake());
    }

    private async Task<IReadOnlyList<ClaimedJob>> JobsAsync(string consumer, StreamEntry[] entries)
    {
        var jobs = new List<ClaimedJob>(entries.Length);
        foreach (var entry in entries)
        {
            try
            {
                jobs.Add(new ClaimedJob(entry.Id!, Deserialize<ReplyJob>(entry["job"])));
            }
            catch (JsonException e)
            {
                // A job this version cannot read would be claimed for ever: drop it, loudly.
                log.LogError(e, "Dropped reply job {EntryId}: it cannot be read", (string?)entry.Id);
                await Db.StreamAcknowledgeAsync(Jobs, Group, entry.Id);
                await Db.StreamDeleteAsync(Jobs, [entry.Id]);
            }
        }
        return jobs;
    }

    /// <summary>Runs a group command, creating the group first if Redis lost it (a restart without persistence).</summary>
    private async Task<T> WithGroupAsync<T>(Func<Task<T>> command)
    {
        try
        {
            return await command();
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            await EnsureGroupAsync();
            return await command();
        }
    }

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    private static T Deserialize<T>(RedisValue value) => JsonSerializer.Deserialize<T>((string)value!, Json)
        ?? throw new JsonException($"A {typeof(T).Name} in Redis is null.");
}
