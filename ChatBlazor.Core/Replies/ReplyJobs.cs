using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatBlazor.Core.Replies;

/// <summary>What a page should show of a reply after an update: from <see cref="Offset"/> on, the text is <see cref="Text"/>.</summary>
public sealed record ReplyUpdate(int Offset, string Text, CompletionStatus Status);

/// <summary>
/// Chat replies as jobs that outlive the page and the instance that asked: starting one admits it through the
/// completion pipeline, stores a queued reply and puts a job on the shared queue for any instance's worker
/// (<see cref="ReplyWorker"/>); following one replays what it has and tails the rest, from any instance; stopping
/// one reaches whichever worker runs it.
/// </summary>
public sealed class ReplyJobs(
    ConversationStore store, CompletionPipeline pipeline, UserPlans plans, ReplyBus bus, ReplyWorker worker, ModerationService moderation, ILogger<ReplyJobs> log)
{
    /// <summary>Reply budget when the conversation sets no Max tokens: a quarter of the window, at most this.</summary>
    public const int DefaultMaxTokens = 1024;

    /// <summary>How long a follower waits for an event before it looks again itself (a lost message, a reply ended by a sweep).</summary>
    private static readonly TimeSpan QuietCheck = TimeSpan.FromSeconds(2);

    /// <summary>A conversation was named by the model (on any instance); raised on a background thread.</summary>
    public event Action<TitleChange>? TitleChanged
    {
        add => worker.TitleChanged += value;
        remove => worker.TitleChanged -= value;
    }

    /// <summary>
    /// Starts a reply to the user message <paramref name="userMessageId"/> (already stored) from the path that leads
    /// to it, and returns the reply's id; null when the conversation is not this user's. Throws
    /// <see cref="CompletionRefusedException"/> before anything is created when the pipeline refuses it (model, plan,
    /// limits, a prompt that cannot fit).
    /// </summary>
    public async Task<Guid?> StartAsync(string userId, Guid conversationId, Guid userMessageId, CancellationToken ct = default)
    {
        if (await store.PathAsync(userId, conversationId, userMessageId, ct) is not var (conversation, path))
            return null;
        if (path.Count == 0 || path[^1].Id != userMessageId || path[^1].Role != MessageRole.User)
            throw new ArgumentException("A reply answers a user message of this conversation.", nameof(userMessageId));

        var model = pipeline.Models.FirstOrDefault(m => m.Name == conversation.Model);
        var settings = conversation.Settings;
        var sampling = new SamplingParams
        {
            Temperature = settings.Temperature ?? model?.Temperature ?? 0.7,
            TopP = settings.TopP ?? model?.TopP ?? 1.0,
            MaxTokens = settings.MaxTokens ?? Math.Min(DefaultMaxTokens, (model?.ContextWindow ?? 4096) / 4),
            Stop = settings.Stop,
        };
        var history = path.SkipLast(1).Where(m => m.Content.Length > 0).Select(ToChat).ToList();
        var caller = new CompletionCaller(userId, null, await plans.ForUserAsync(userId, ct));
        var ticket = await pipeline.AdmitAsync(new CompletionCall(caller, UsageSource.Chat, new CompletionRequest(conversation.Model, sampling),
            new ChatInput(settings.SystemPrompt, history, ToChat(path[^1]), conversationId, userMessageId)), ct);
        if (ticket.InputModeration?.RedactedText is { } redacted && !moderation.StoreOriginal)
            await store.RedactUserMessageAsync(userMessageId, redacted, ct); // the model got it redacted; so is what is kept

        Message? reply;
        try
        {
            reply = await store.StartReplyAsync(userId, conversationId, userMessageId, ticket.Id, ticket.Model, ct); // "auto" resolved
        }
        catch
        {
            await pipeline.WithdrawAsync(ticket);
            throw;
        }
        if (reply is null)
        {
            await pipeline.WithdrawAsync(ticket);
            return null;
        }

        using var enqueue = ReplyTelemetry.StartEnqueue(reply.Id);
        var job = new ReplyJob(reply.Id, conversationId, ticket, DateTimeOffset.UtcNow, Activity.Current?.Id);
        try
        {
            await bus.EnqueueAsync(job);
        }
        catch (RedisException e)
        {
            // Without the shared queue the reply still runs, here; only a page on this instance follows it live.
            log.LogWarning(e, "Reply {ReplyId} could not be queued in Redis; running it in this instance", reply.Id);
            if (!worker.RunHere(job))
            {
                await store.DeleteQueuedReplyAsync(reply.Id);
                await pipeline.WithdrawAsync(ticket);
                throw new InvalidOperationException("Replies cannot start right now: the job queue cannot be reached. Your message is saved; try again in a moment.", e);
            }
        }
        return reply.Id;
    }

    /// <summary>Stops one of the user's replies wherever it runs, keeping what it wrote; false when it is not theirs or has ended.</summary>
    public async Task<bool> StopAsync(string userId, Guid replyId)
    {
        var reply = await store.ReplyAsync(userId, replyId);
        if (reply is null || reply.Status.IsFinal())
            return false;
        worker.StopHere(replyId);
        try
        {
            if (await store.StopQueuedAsync(replyId))
                await bus.PublishAsync(replyId, new ReplyEvent(0, "", CompletionStatus.Stopped));
            await bus.RequestStopAsync(replyId);
        }
        catch (RedisException e)
        {
            log.LogWarning(e, "The stop of reply {ReplyId} reached only this instance: Redis cannot answer", replyId);
        }
        return true;
    }

    /// <summary>
    /// One of the user's replies as it grows: first everything it has, then each change, then its ending (with the
    /// final text as stored). Changes that arrive faster than the reader takes them come merged into one. From any
    /// instance; while Redis cannot answer, it follows what is saved in PostgreSQL instead.
    /// </summary>
    public async IAsyncEnumerable<ReplyUpdate> FollowAsync(string userId, Guid replyId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ChannelMessageQueue? events = null;
        try
        {
            events = await bus.SubscribeAsync(replyId);
        }
        catch (RedisException e)
        {
            log.LogDebug(e, "Following reply {ReplyId} from the database: Redis cannot answer", replyId);
        }
        try
        {
            var updates = events is null ? PollAsync(userId, replyId, ct) : TailAsync(userId, replyId, events, ct);
            await foreach (var update in updates)
                yield return update;
        }
        finally
        {
            if (events is not null)
                await UnsubscribeAsync(events);
        }
    }

    private async IAsyncEnumerable<ReplyUpdate> TailAsync(string userId, Guid replyId, ChannelMessageQueue events, [EnumeratorCancellation] CancellationToken ct)
    {
        // Subscribed first, then read: nothing published in between is missed (what the stream already had is skipped by id).
        var stored = await store.ReplyAsync(userId, replyId, ct);
        if (stored is null)
            yield break;
        var reply = new FollowedReply(stored);
        if (!reply.Ended)
            reply.ApplyAll(await bus.EventsAsync(replyId, reply.LastId));
        while (true)
        {
            if (reply.NeedsReload)
            {
                stored = await store.ReplyAsync(userId, replyId, CancellationToken.None);
                if (stored is null)
                    yield break;
                reply.Reload(stored);
            }
            if (reply.TakeUpdate() is { } update)
                yield return update;
            if (reply.Ended)
                yield break;

            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
            quiet.CancelAfter(QuietCheck);
            try
            {
                var message = await events.ReadAsync(quiet.Token);
                do
                {
                    var (id, previous, replyEvent) = ReplyBus.ParseMessage((string)message.Message!);
                    if (previous == reply.LastId)
                        reply.Apply(id, replyEvent);
                    else if (FollowedReply.After(id, reply.LastId))
                        reply.ApplyAll(await bus.EventsAsync(replyId, reply.LastId)); // missed some: read them
                }
                while (events.TryRead(out message));
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Quiet for a while: read what the stream has (a message lost with a connection), and whether the
                // reply ended without an event (stopped while queued on an instance without Redis, swept).
                try
                {
                    reply.ApplyAll(await bus.EventsAsync(replyId, reply.LastId));
                }
                catch (RedisException)
                {
                }
                if (await store.ReplyAsync(userId, replyId, ct) is { } now && now.Status.IsFinal())
                    reply.Reload(now);
            }
            catch (RedisException)
            {
                reply.NeedsReload = true; // read the database next round
            }
        }
    }

    /// <summary>Following by reading PostgreSQL once a second: the saved text, while Redis cannot answer.</summary>
    private async IAsyncEnumerable<ReplyUpdate> PollAsync(string userId, Guid replyId, [EnumeratorCancellation] CancellationToken ct)
    {
        (int Length, CompletionStatus Status)? shown = null;
        while (await store.ReplyAsync(userId, replyId, ct) is { } stored)
        {
            if (shown != (stored.Content.Length, stored.Status))
            {
                shown = (stored.Content.Length, stored.Status);
                yield return new ReplyUpdate(0, stored.Content, stored.Status);
            }
            if (stored.Status.IsFinal())
                yield break;
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private async Task UnsubscribeAsync(ChannelMessageQueue events)
    {
        try
        {
            await events.UnsubscribeAsync();
        }
        catch (RedisException e)
        {
            log.LogDebug(e, "Unsubscribing from a reply's events failed");
        }
    }

    private static ChatMessage ToChat(Message m) => new(m.Role == MessageRole.User ? "user" : "assistant", m.Content);

    /// <summary>A follower's copy of a reply: its text, built from the events as they come, and what changed since the last update.</summary>
    private sealed class FollowedReply(Message stored)
    {
        private readonly StringBuilder _text = new(stored.Content);
        private int _changedFrom; // the first update carries everything
        private bool _changed = true;

        public CompletionStatus Status { get; private set; } = stored.Status;
        public string LastId { get; private set; } = "0-0";
        public bool Ended => Status.IsFinal();

        /// <summary>
        /// The stored reply is needed: it ended (the database has its final text and figures), or an event starts past
        /// the text known here (the stream lost its beginning), or Redis failed mid-read.
        /// </summary>
        public bool NeedsReload { get; set; }

        public void ApplyAll(IReadOnlyList<(string Id, ReplyEvent Event)> events)
        {
            foreach (var (id, replyEvent) in events)
                Apply(id, replyEvent);
        }

        public void Apply(string id, ReplyEvent replyEvent)
        {
            if (!After(id, LastId))
                return;
            LastId = id;
            if (replyEvent.Status is { } status && status != Status)
                (Status, _changed) = (status, true);
            if (Ended)
            {
                NeedsReload = true; // the stored reply is the final word
                return;
            }
            if (replyEvent.Offset > _text.Length)
            {
                NeedsReload = true;
                return;
            }
            _text.Length = replyEvent.Offset;
            _text.Append(replyEvent.Text);
            (_changedFrom, _changed) = (Math.Min(_changedFrom, replyEvent.Offset), true);
        }

        public void Reload(Message stored)
        {
            _text.Clear().Append(stored.Content);
            Status = stored.Status;
            (_changedFrom, _changed, NeedsReload) = (0, true, false);
        }

        public ReplyUpdate? TakeUpdate()
        {
            if (!_changed)
                return null;
            var from = Math.Min(_changedFrom, _text.Length);
            (_changedFrom, _changed) = (int.MaxValue, false);
            return new ReplyUpdate(from, _text.ToString(from, _text.Length - from), Status);
        }

        /// <summary>Stream ids are "milliseconds-sequence".</summary>
        public static bool After(string id, string other)
        {
            var (a, b) = (Parse(id), Parse(other));
            return a.Ms > b.Ms || (a.Ms == b.Ms && a.Seq > b.Seq);

            static (long Ms, long Seq) Parse(string s)
            {
                var dash = s.IndexOf('-', StringComparison.Ordinal);
                return (long.Parse(s.AsSpan(0, dash), System.Globalization.CultureInfo.InvariantCulture),
                    long.Parse(s.AsSpan(dash + 1), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
