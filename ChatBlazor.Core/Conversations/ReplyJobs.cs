using System.Collections.Concurrent;
using System.Diagnostics;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Orchestration;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Conversations;

/// <summary>What a follower sees of a reply: all its text so far and whether it is still growing.</summary>
public sealed record ReplySnapshot(string Text, MessageStatus Status);

/// <summary>
/// A reply being generated. Followers (any tab, after any reload) get everything written so far, then each change;
/// changes that come faster than a follower reads are merged into one, so a slow tab never holds the job back.
/// </summary>
public sealed class LiveReply(Guid id, Guid conversationId)
{
    private readonly Lock _lock = new();
    private ReplySnapshot _snapshot = new("", MessageStatus.Streaming);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    internal CancellationTokenSource Stop { get; } = new();

    public Guid Id { get; } = id;
    public Guid ConversationId { get; } = conversationId;
    public ReplySnapshot Snapshot { get { lock (_lock) return _snapshot; } }

    public async IAsyncEnumerable<ReplySnapshot> FollowAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ReplySnapshot snapshot;
            Task changed;
            lock (_lock)
                (snapshot, changed) = (_snapshot, _changed.Task);
            yield return snapshot;
            if (snapshot.Status != MessageStatus.Streaming)
                yield break;
            await changed.WaitAsync(cancellationToken);
        }
    }

    internal void Publish(ReplySnapshot snapshot)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            (_snapshot, changed) = (snapshot, _changed);
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }
}

/// <summary>
/// Generates replies as jobs of their own, independent of the circuit or request that asked: closing the tab does not
/// stop a reply, and <see cref="Stop"/> does, within one engine step, keeping what was written. The reply is saved
/// at least once a second while tokens arrive, every <see cref="HeartbeatInterval"/> while none do (a long prompt),
/// and finally with its status. After a conversation's first complete reply the model is asked for its title.
/// </summary>
public sealed class ReplyJobs(
    ConversationStore store, IInferenceEngine engine, RateLimiter limiter, UserPlans plans, UsageLedger ledger, ILogger<ReplyJobs> log,
    TimeSpan? saveInterval = null)
{
    private readonly TimeSpan _saveInterval = saveInterval ?? TimeSpan.FromSeconds(1);
    /// <summary>Reply budget when the conversation sets no Max tokens: a quarter of the window, at most this.</summary>
    public const int DefaultMaxTokens = 1024;
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);
    /// <summary>A streaming reply not saved for this long has lost its job (see <see cref="ConversationStore.FailAbandonedRepliesAsync"/>).</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromSeconds(30);

    /// <summary>A conversation got its title from the model: (conversation id, title). Raised on a worker thread.</summary>
    public event Action<Guid, string>? TitleChanged;

    private readonly ConcurrentDictionary<Guid, LiveReply> _live = new();

    public LiveReply? Find(Guid replyId) => _live.GetValueOrDefault(replyId);

    public bool Stop(Guid replyId)
    {
        if (!_live.TryGetValue(replyId, out var reply))
            return false;
        reply.Stop.Cancel();
        return true;
    }

    /// <summary>
    /// Starts a reply to the user message <paramref name="userMessageId"/> (already stored), from the path that leads
    /// to it. Throws before anything is created when the model is unknown, the prompt cannot fit
    /// (<see cref="PromptTooLongException"/>) or a limit is reached (<see cref="QuotaExceededException"/>); returns
    /// null when the conversation is not this user's. The reply reserves its prompt plus its budget under the user's
    /// limits and settles to what it used; every reply writes a usage row.
    /// </summary>
    public async Task<LiveReply?> StartAsync(string userId, Guid conversationId, Guid userMessageId, CancellationToken ct = default)
    {
        var conversation = await store.GetAsync(userId, conversationId, ct);
        if (conversation is null)
            return null;
        var path = ConversationStore.PathTo(conversation.Messages, userMessageId);
        if (path.Count == 0 || path[^1].Role != MessageRole.User)
            throw new ArgumentException("A reply answers a user message of this conversation.", nameof(userMessageId));

        var model = engine.Models.FirstOrDefault(m => m.Name == conversation.Model) ?? throw new ModelNotFoundException(conversation.Model);
        var settings = conversation.Settings;
        var maxTokens = settings.MaxTokens ?? Math.Min(DefaultMaxTokens, model.ContextWindow / 4);
        var history = path.SkipLast(1).Where(m => m.Content.Length > 0).Select(ToChat).ToList();
        var prompt = PromptBuilder.Build(settings.SystemPrompt, history, ToChat(path[^1]), model.ContextWindow, maxTokens,
            messages => engine.CountChatTokens(model.Name, messages));
        var sampling = new SamplingParams
        {
            Temperature = settings.Temperature ?? model.Temperature ?? 0.7,
            TopP = settings.TopP ?? model.TopP ?? 1.0,
            MaxTokens = maxTokens,
            Stop = settings.Stop,
        };

        var decision = await limiter.ReserveAsync(new LimitSubject(userId, null, await plans.ForUserAsync(userId, ct)), prompt.PromptTokens + maxTokens, ct);
        if (!decision.Admitted)
            throw new QuotaExceededException(decision.Refusal!, decision.RetryAt!.Value);

        var message = await store.StartReplyAsync(userId, conversationId, userMessageId, ct);
        if (message is null)
        {
            await limiter.SettleAsync(decision.Reservation!, 0);
            return null;
        }
        var reply = new LiveReply(message.Id, conversationId);
        _live[reply.Id] = reply;
        var job = new Job(userId, prompt.PromptTokens, decision.Reservation!);
        _ = Task.Run(() => RunAsync(reply, new CompletionRequest(model.Name, sampling, Messages: prompt.Messages), job), CancellationToken.None);
        return reply;
    }

    /// <summary>What a running reply must settle and record when it ends.</summary>
    private sealed record Job(string UserId, int PromptTokens, Reservation Reservation);

    private async Task RunAsync(LiveReply reply, CompletionRequest request, Job job)
    {
        var chunks = 0;
        var text = "";
        var clock = Stopwatch.StartNew();
        var lastSave = TimeSpan.Zero;
        long? firstTokenMs = null;
        GenerationUsage? usage = null;
        FinishReason? finish = null;
        ReplyOutcome outcome;
        using var heartbeat = new CancellationTokenSource();
        var beating = HeartbeatAsync(reply, heartbeat.Token);
        try
        {
            await foreach (var chunk in engine.GenerateAsync(request, reply.Stop.Token))
            {
                chunks++;
                if (chunk.Text.Length > 0)
                {
                    firstTokenMs ??= clock.ElapsedMilliseconds;
                    text += chunk.Text;
                    reply.Publish(new ReplySnapshot(text, MessageStatus.Streaming));
                }
                (usage, finish) = (chunk.Usage ?? usage, chunk.FinishReason ?? finish);
                if (clock.Elapsed - lastSave >= _saveInterval)
                {
                    lastSave = clock.Elapsed;
                    await store.SaveProgressAsync(reply.Id, text);
                }
            }
            outcome = new ReplyOutcome(MessageStatus.Complete, finish?.ToString().ToLowerInvariant());
        }
        catch (OperationCanceledException) when (reply.Stop.IsCancellationRequested)
        {
            outcome = new ReplyOutcome(MessageStatus.Stopped, "stopped");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogWarning(e, "Reply {ReplyId} failed", reply.Id);
            outcome = new ReplyOutcome(MessageStatus.Failed, Error: UserFacing(e));
        }

        await heartbeat.CancelAsync();
        await beating;

        var seconds = clock.Elapsed.TotalSeconds - (firstTokenMs ?? 0) / 1000.0;
        var completion = usage?.CompletionTokens;
        outcome = outcome with
        {
            PromptTokens = usage?.PromptTokens,
            CompletionTokens = completion,
            TimeToFirstTokenMs = (int?)firstTokenMs,
            TokensPerSecond = completion > 1 && seconds > 0 ? Math.Round((completion.Value - 1) / seconds, 1) : null,
        };
        try
        {
            await store.FinishReplyAsync(reply.Id, text, outcome);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogError(e, "Reply {ReplyId} could not be saved at the end", reply.Id);
        }
        finally
        {
            reply.Publish(new ReplySnapshot(text, outcome.Status));
            _live.TryRemove(reply.Id, out _);
        }
        // Without the engine's count (stopped, failed) every chunk counts as a token: close, and never zero for work done.
        var (promptTokens, completionTokens) = usage is { } u ? (u.PromptTokens, u.CompletionTokens) : (chunks > 0 ? job.PromptTokens : 0, chunks);
        await limiter.SettleAsync(job.Reservation, promptTokens + completionTokens);
        await ledger.RecordAsync(new UsageRecord
        {
            UserId = job.UserId, Source = UsageSource.Chat, Model = request.Model, PromptTokens = promptTokens, CompletionTokens = completionTokens,
            LatencyMs = (int)clock.ElapsedMilliseconds, Status = outcome.Status.ToString().ToLowerInvariant(),
        });
        if (outcome.Status == MessageStatus.Complete)
            await TitleAsync(reply.Id, request.Model);
    }

    private async Task HeartbeatAsync(LiveReply reply, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await store.SaveProgressAsync(reply.Id, reply.Snapshot.Text, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    log.LogWarning(e, "Heartbeat of reply {ReplyId} failed; trying again in {Interval}", reply.Id, HeartbeatInterval); // a hiccup must not end the beats
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The model names the conversation after its first reply (greedy, a few tokens, <see cref="TitlePrompt"/>). Any
    /// failure keeps the first-words title: a title is never worth an error.
    /// </summary>
    private async Task TitleAsync(Guid replyId, string model)
    {
        try
        {
            if (await store.TitleToGenerateAsync(replyId) is not var (conversationId, firstMessage))
                return;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var request = new CompletionRequest(model, new SamplingParams { Temperature = 0, MaxTokens = 20 },
                Messages: [new ChatMessage("user", TitlePrompt.For(firstMessage))]);
            var text = "";
            await foreach (var chunk in engine.GenerateAsync(request, timeout.Token))
                text += chunk.Text;
            if (TitlePrompt.Clean(text) is { } title && await store.SetModelTitleAsync(conversationId, title))
                TitleChanged?.Invoke(conversationId, title);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogInformation(e, "No title from the model for the conversation of reply {ReplyId}", replyId);
        }
    }

    private static ChatMessage ToChat(Message m) => new(m.Role == MessageRole.User ? "user" : "assistant", m.Content);

    private static string UserFacing(Exception e) => e switch
    {
        EngineOverloadedException => "The model is busy right now. Try again in a moment.",
        EngineUnavailableException => "The model's server stopped answering. Try again; if it keeps happening, tell an admin.",
        ArgumentException => e.Message,
        _ => "Something went wrong while generating this reply. Try regenerating it.",
    };
}
