using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Core.Replies;

/// <summary>
/// Runs reply jobs in this instance: claims up to <see cref="ReplyOptions.Workers"/> at a time from the shared queue
/// (new ones, and ones whose worker went silent), runs each through the completion pipeline, saves its text to
/// PostgreSQL every <see cref="ReplyOptions.SaveInterval"/> and publishes every piece on the reply's events, so any
/// instance's page follows it live. One loop does the rest on schedule: renewing the claims of running jobs (a job
/// another worker took over stops here), heartbeats, and marking failed the replies whose job is gone for good.
/// At shutdown it stops claiming, lets running replies finish for <see cref="ReplyOptions.ShutdownGrace"/>, and
/// hands the rest to another worker, which continues them from the saved text.
/// </summary>
public sealed class ReplyWorker(
    ReplyBus bus, ConversationStore store, CompletionPipeline pipeline, UserPlans plans, IOptions<ReplyOptions> options, ILogger<ReplyWorker> log)
    : BackgroundService
{
    private readonly ReplyOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, Run> _running = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _shuttingDown = new();
    private bool _subscribed, _redisDown;

    /// <summary>This process in the consumer group: a new name per start, so a restarted process never takes over its old claims by name.</summary>
    public string Consumer { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A conversation was named by the model; raised on a background thread, once per instance.</summary>
    public event Action<TitleChange>? TitleChanged;

    /// <summary>One running job: its claim (null when it runs here because Redis was down), and its controls.</summary>
    private sealed class Run(ClaimedJob? claimed, ReplyJob job)
    {
        public ClaimedJob? Claimed { get; } = claimed;
        public ReplyJob Job { get; } = job;
        public CancellationTokenSource Stop { get; } = new();
        public CancellationTokenSource HandOff { get; } = new();
        public Task Task { get; set; } = Task.CompletedTask;
        /// <summary>The reply has ended and its job is acknowledged; what is left (a title) needs no claim or heartbeat.</summary>
        public bool Ended { get; set; }
        /// <summary>Claimed from a worker that went silent, rather than new.</summary>
        public bool TakenOver { get; init; }
    }

    /// <summary>Runs a job in this process without the queue (it could not be enqueued: Redis is down).</summary>
    public bool RunHere(ReplyJob job)
    {
        if (!_options.RunsJobs || _shuttingDown.IsCancellationRequested)
            return false;
        Start(new Run(null, job));
        return true;
    }

    /// <summary>Stops the reply if it runs in this process; true when it did.</summary>
    public bool StopHere(Guid replyId)
    {
        if (!_running.TryGetValue(replyId, out var run))
            return false;
        run.Stop.Cancel();
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        var (nextTakeover, nextHeartbeat, nextSweep) = (TimeSpan.Zero, _options.HeartbeatInterval, TimeSpan.Zero);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_subscribed)
                {
                    await bus.SubscribeAsync(id => StopHere(id), change => TitleChanged?.Invoke(change), () => _wake.Release());
                    await bus.EnsureGroupAsync();
                    _subscribed = true;
                }
                if (_options.RunsJobs)
                {
                    if (clock.Elapsed >= nextTakeover && Free() > 0)
                    {
                        nextTakeover = clock.Elapsed + _options.ClaimAfter / 2;
                        foreach (var job in await bus.ClaimStaleAsync(Consumer, _options.ClaimAfter, Free()))
                            Start(new Run(job, job.Job) { TakenOver = true });
                    }
                    if (Free() > 0)
                        foreach (var job in await bus.ReadNewAsync(Consumer, Free()))
                            Start(new Run(job, job.Job));
                }
                if (clock.Elapsed >= nextHeartbeat)
                {
                    nextHeartbeat = clock.Elapsed + _options.HeartbeatInterval;
                    await HeartbeatAsync();
                }
                if (clock.Elapsed >= nextSweep)
                {
                    nextSweep = clock.Elapsed + _options.AbandonedAfter / 2;
                    await SweepAsync(stoppingToken);
                }
                if (_redisDown)
                    log.LogWarning("Reply jobs are shared through Redis again");
                _redisDown = false;
            }
            catch (Exception e) when (e is RedisException && !stoppingToken.IsCancellationRequested)
            {
                if (!_redisDown)
                    log.LogError(e, "Redis cannot answer: no reply jobs are claimed or renewed until it does (replies started meanwhile run where they start)");
                _redisDown = true;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // A timeout's cancellation too: only this instance stopping ends the loop.
                log.LogError(e, "The reply worker loop failed; going on");
            }
            // A wake-up (a new job, a finished one) or at least once a second for the schedule above.
            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shuttingDown.CancelAsync();
        await base.StopAsync(cancellationToken); // no more claims
        var running = _running.Values.ToList();
        if (running.Count == 0)
            return;
        log.LogInformation("Shutting down with {Count} replies running: {Grace} for them to finish", running.Count, _options.ShutdownGrace);
        var all = Task.WhenAll(_running.Values.Select(r => r.Task));
        await Task.WhenAny(all, Task.Delay(_options.ShutdownGrace, cancellationToken));
        foreach (var run in _running.Values)
            await run.HandOff.CancelAsync();
        await Task.WhenAny(Task.WhenAll(_running.Values.Select(r => r.Task)), Task.Delay(Timeout.Infinite, cancellationToken));
    }

    private int Free() => Math.Max(0, _options.Workers - _running.Count);

    private void Start(Run run)
    {
        if (!_running.TryAdd(run.Job.ReplyId, run))
            return; // already running here (claimed twice across a reconnect)
        run.Task = Task.Run(async () =>
        {
            ReplyTelemetry.RunStarted();
            using var activity = ReplyTelemetry.StartRun(run.Job, run.TakenOver, DateTimeOffset.UtcNow);
            try
            {
                await RunAsync(run);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Left in the queue: after ClaimAfter another run tries again (up to MaxAttempts).
                log.LogError(e, "Reply {ReplyId} failed in its worker; its job stays queued", run.Job.ReplyId);
            }
            finally
            {
                ReplyTelemetry.RunEnded();
                _running.TryRemove(run.Job.ReplyId, out _);
                run.Stop.Dispose();
                run.HandOff.Dispose();
                _wake.Release();
            }
        });
    }

    private async Task RunAsync(Run run)
    {
        var (job, ticket) = (run.Job, run.Job.Ticket);
        var claim = await store.ClaimReplyAsync(job.ReplyId);
        if (claim is null)
        {
            await SettleEndedAsync(job);
            await AckAsync(run);
            return;
        }
        if (claim.Attempt > _options.MaxAttempts)
        {
            log.LogError("Reply {ReplyId} failed {Attempts} times in a row; giving up", job.ReplyId, claim.Attempt - 1);
            await store.FinishReplyAsync(job.ReplyId, claim.Attempt, claim.Content, new ReplyOutcome(CompletionStatus.Failed, GaveUpError));
            await pipeline.SettleAsync(ticket, new CompletionResult(CompletionStatus.Failed, ticket.PromptTokens, pipeline.CountText(ticket.Model, claim.Content), TimeSpan.Zero));
            await PublishAsync(job.ReplyId, new ReplyEvent(claim.Content.Length, "", CompletionStatus.Failed));
            await AckAsync(run);
            return;
        }
        if (run.Claimed is not null && await bus.StopRequestedAsync(job.ReplyId))
            await run.Stop.CancelAsync();

        var text = new StringBuilder(claim.Content);
        await PublishAsync(job.ReplyId, new ReplyEvent(text.Length, "", CompletionStatus.Streaming));
        var resume = text.Length > 0 ? new ReplyProgress(claim.Content, pipeline.CountText(ticket.Model, claim.Content)) : null;
        var sinceSave = Stopwatch.StartNew();

        async Task OnChunkAsync(GenerationChunk chunk)
        {
            if (chunk.Text.Length == 0)
                return;
            var offset = text.Length;
            text.Append(chunk.Text);
            await PublishAsync(job.ReplyId, new ReplyEvent(offset, chunk.Text));
            if (sinceSave.Elapsed < _options.SaveInterval)
                return;
            sinceSave.Restart();
            switch (await store.SaveProgressAsync(job.ReplyId, claim.Attempt, text.ToString()))
            {
                case ReplyWrite.TakenOver:
                    throw new CompletionHandedOffException("Another run of this reply's job owns it now.");
                case ReplyWrite.Gone:
                    throw new OperationCanceledException("The reply was deleted with its conversation.");
            }
        }

        var result = await pipeline.RunAsync(ticket, OnChunkAsync, run.Stop.Token, run.HandOff.Token, resume, async ended =>
        {
            var outcome = new ReplyOutcome(ended.Status, ErrorFor(ended), ended.PromptTokens, ended.CompletionTokens, ended.TimeToFirstTokenMs, ended.TokensPerSecond, ended.Model);
            // A reply deleted meanwhile is still settled: its tokens were spent.
            return await store.FinishReplyAsync(job.ReplyId, claim.Attempt, text.ToString(), outcome) != ReplyWrite.TakenOver;
        });

        if (result.HandedOff)
        {
            if (_shuttingDown.IsCancellationRequested && await store.SaveProgressAsync(job.ReplyId, claim.Attempt, text.ToString()) == ReplyWrite.Written
                && run.Claimed is { } claimed && await bus.HandBackAsync(Consumer, claimed))
                log.LogInformation("Reply {ReplyId} handed to another worker at {Length} characters", job.ReplyId, text.Length);
            return;
        }
        await PublishAsync(job.ReplyId, new ReplyEvent(text.Length, "", result.Status));
        await AckAsync(run);
        run.Ended = true;
        if (result.Status == CompletionStatus.Complete)
            await TitleAsync(job, result.Model ?? ticket.Model);
    }

    /// <summary>
    /// A job whose reply had ended before this run: stopped while it waited, or finished by a run that died before
    /// settling. Settling again is harmless (one usage row per reply); a reply deleted unanswered gives back its hold.
    /// </summary>
    private async Task SettleEndedAsync(ReplyJob job)
    {
        if (await store.FindAsync(job.ReplyId) is { } reply)
            await pipeline.SettleAsync(job.Ticket, new CompletionResult(reply.Status, reply.PromptTokens ?? 0, reply.CompletionTokens ?? 0, TimeSpan.Zero));
        else
            await pipeline.WithdrawAsync(job.Ticket);
    }

    /// <summary>
    /// The model that wrote the first reply (a fallback of "auto" included) names the conversation (greedy, a few tokens, <see cref="TitlePrompt"/>),
    /// through the pipeline like any completion but not metered. Any failure keeps the first-words title.
    /// </summary>
    private async Task TitleAsync(ReplyJob job, string model)
    {
        try
        {
            if (await store.TitleToGenerateAsync(job.ReplyId) is not var (conversationId, userId, firstMessage))
                return;
            var request = new CompletionRequest(model, new SamplingParams { Temperature = 0, MaxTokens = 20 },
                Messages: [new ChatMessage("user", TitlePrompt.For(firstMessage))]);
            var caller = new CompletionCaller(userId, null, await plans.ForUserAsync(userId));
            var ticket = await pipeline.AdmitAsync(new CompletionCall(caller, UsageSource.Title, request, Metered: false));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_shuttingDown.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var text = new StringBuilder();
            var result = await pipeline.RunAsync(ticket, chunk => { text.Append(chunk.Text); return Task.CompletedTask; }, timeout.Token);
            if (result.Status is CompletionStatus.Complete or CompletionStatus.Length && TitlePrompt.Clean(text.ToString()) is { } title
                && await store.SetModelTitleAsync(conversationId, title))
                await PublishTitleAsync(new TitleChange(conversationId, userId, title));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogInformation(e, "No title from the model for the conversation of reply {ReplyId}", job.ReplyId);
        }
    }

    /// <summary>Renews the claims of running jobs (stopping those another worker took over) and their heartbeats.</summary>
    private async Task HeartbeatAsync()
    {
        var runs = _running.Values.Where(r => !r.Ended).ToList();
        var claimed = runs.Where(r => r.Claimed is not null).ToList();
        var mine = await bus.RenewAsync(Consumer, [.. claimed.Select(r => r.Claimed!.EntryId)]);
        foreach (var lost in claimed.Where(r => !mine.Contains(r.Claimed!.EntryId)))
        {
            log.LogWarning("Reply {ReplyId} was taken over by another worker; stopping it here", lost.Job.ReplyId);
            await lost.HandOff.CancelAsync();
        }
        await store.HeartbeatAsync([.. runs.Select(r => r.Job.ReplyId)]);
    }

    /// <summary>Replies left unfinished with no job in the queue (their instance died while Redis was down, or Redis lost its data) become failed.</summary>
    private async Task SweepAsync(CancellationToken ct)
    {
        foreach (var replyId in await store.SilentRepliesAsync(_options.AbandonedAfter, ct))
        {
            if (_running.ContainsKey(replyId) || await bus.HasJobAsync(replyId))
                continue;
            if (await store.FailInterruptedAsync(replyId, _options.AbandonedAfter, ct))
            {
                log.LogWarning("Reply {ReplyId} lost its job and was marked failed", replyId);
                await PublishAsync(replyId, new ReplyEvent(0, "", CompletionStatus.Failed));
            }
        }
        await bus.ForgetIdleConsumersAsync(TimeSpan.FromHours(1));
    }

    private async Task AckAsync(Run run)
    {
        if (run.Claimed is { } claimed && !await bus.AckAsync(Consumer, claimed))
            log.LogWarning("Reply {ReplyId} ended here after another worker took its job over", run.Job.ReplyId);
    }

    /// <summary>Live text is a convenience next to the saved text: while Redis cannot take it, pages fall back to reading the database.</summary>
    private async Task PublishAsync(Guid replyId, ReplyEvent replyEvent)
    {
        try
        {
            await bus.PublishAsync(replyId, replyEvent);
        }
        catch (RedisException e)
        {
            log.LogDebug(e, "Event of reply {ReplyId} not published", replyId);
        }
    }

    private async Task PublishTitleAsync(TitleChange change)
    {
        try
        {
            await bus.PublishTitleAsync(change); // every instance, this one included, hears it on the channel
        }
        catch (RedisException)
        {
            TitleChanged?.Invoke(change); // at least this instance's pages
        }
    }

    public const string GaveUpError = "This reply failed every time it was tried. Regenerate it, or tell an admin if it keeps happening.";

    private static string? ErrorFor(CompletionResult result) => result.Status switch
    {
        CompletionStatus.Filtered => result.FilterReason,
        CompletionStatus.Failed => result.Error switch
        {
            EngineOverloadedException => "The model is busy right now. Try again in a moment.",
            EngineUnavailableException => "The model's server stopped answering. Try again; if it keeps happening, tell an admin.",
            ChatTemplateException t => $"The model's chat template could not format this conversation: {t.Message}",
            ArgumentException a => a.Message,
            _ => "Something went wrong while generating this reply. Try regenerating it.",
        },
        _ => null,
    };
}
