using ChatBlazor.Core.Conversations;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// Replies whose job died with a server process (a crash, a deploy) would stay "streaming" for ever. At start and then
/// every <see cref="ReplyJobs.AbandonedAfter"/>, those without a heartbeat for that long become failed, keeping their
/// text, so the page shows what happened and offers Regenerate. Heartbeats make this safe with several web instances.
/// </summary>
internal sealed class AbandonedReplies(ConversationStore store, ILogger<AbandonedReplies> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ReplyJobs.AbandonedAfter);
        do
        {
            try
            {
                var failed = await store.FailAbandonedRepliesAsync(ReplyJobs.AbandonedAfter, stoppingToken);
                if (failed > 0)
                    log.LogWarning("Marked {Count} interrupted replies as failed", failed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Could not check for interrupted replies; trying again in {Interval}", ReplyJobs.AbandonedAfter);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
