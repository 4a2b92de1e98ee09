using System.Diagnostics;
using System.Runtime.CompilerServices;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Tests.Completions;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace ChatBlazor.Core.Tests.Replies;

/// <summary>
/// Measurements of the reply bus, not tests: <c>scripts/bench-replies.sh</c> runs them, <c>./test.sh</c> leaves them out
/// (Category=Bench). Against the test PostgreSQL and Redis on this machine; results go to the test output and
/// .data/bench/replies.json.
/// </summary>
[Trait("Category", "Bench")]
public sealed class ReplyBusBench(PipelineHarness harness, ITestOutputHelper output) : IClassFixture<PipelineHarness>
{
    /// <summary>Test double: an engine that answers every request at once with a few tokens.</summary>
    private sealed class InstantEngineDouble : IInferenceEngine
    {
        public IReadOnlyList<ModelInfo> Models { get; } = [new("instant", 4096)];

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            yield return new GenerationChunk("Done", []);
            yield return new GenerationChunk(".", [], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(5, 2));
        }
    }

    private ReplyBus Bus(string prefix) => new(harness.Redis, harness.ReplyOptions(prefix), NullLogger<ReplyBus>.Instance);

    private static CompletionTicket Ticket() => new(Guid.CreateVersion7(), UsageSource.Chat, "bench-user", null,
        new CompletionRequest("instant", new SamplingParams { MaxTokens = 16 }, Messages: [new ChatMessage("user", "hi")]), 4, 0, null, false, DateTimeOffset.UtcNow);

    [Fact]
    public async Task JobsPerSecondTheQueueSustainsAlone()
    {
        const int Jobs = 5_000;
        var bus = Bus($"{harness.KeyPrefix}queue:");
        await bus.EnsureGroupAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Jobs).Select(_ => { var ticket = Ticket(); return bus.EnqueueAsync(new ReplyJob(ticket.Id, Guid.NewGuid(), ticket)); }));
        var enqueued = clock.Elapsed;

        // Two consumers, as two instances' workers: claim up to 16 at a time and acknowledge each.
        var done = 0;
        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async c =>
        {
            while (Volatile.Read(ref done) < Jobs)
            {
                var claimed = await bus.ReadNewAsync($"consumer-{c}", 16);
                await Task.WhenAll(claimed.Select(job => bus.AckAsync($"consumer-{c}", job)));
                Interlocked.Add(ref done, claimed.Count);
            }
        }));
        var consumed = clock.Elapsed;

        var result = new { jobs = Jobs, enqueue_per_s = Math.Round(Jobs / enqueued.TotalSeconds), claim_and_ack_per_s = Math.Round(Jobs / consumed.TotalSeconds) };
        output.WriteLine($"queue alone: {result}");
        BenchResults.Save("replies.json", "queue_alone", result);
        Assert.Equal(Jobs, done);
    }

    [Fact]
    public async Task RepliesPerSecondTwoWorkersFinishWithTheirDatabaseWrites()
    {
        const int Replies = 500;
        var prefix = $"{harness.KeyPrefix}replies:";
        var options = harness.ReplyOptions(prefix);
        (options.Value.Workers, options.Value.SaveInterval) = (16, TimeSpan.FromSeconds(1)); // as shipped
        var pipeline = harness.Pipeline(new InstantEngineDouble());
        var workers = Enumerable.Range(0, 2).Select(_ => new ReplyWorker(Bus(prefix), harness.Store, pipeline, harness.UserPlans, options, NullLogger<ReplyWorker>.Instance)).ToList();
        var jobs = new ReplyJobs(harness.Store, pipeline, harness.UserPlans, Bus(prefix), workers[0], harness.Moderation, NullLogger<ReplyJobs>.Instance);
        var users = new List<string>(); // ten users, as the plan runs 50 replies at once for each
        for (var u = 0; u < 10; u++)
            users.Add((await harness.UserAsync()).Id);
        var questions = new List<(string User, Guid Chat, Guid Question)>();
        for (var i = 0; i < Replies; i++)
        {
            var user = users[i % users.Count];
            var chat = await harness.Store.CreateAsync(user, "instant");
            questions.Add((user, chat.Id, (await harness.Store.AddUserMessageAsync(user, chat.Id, null, $"question {i}"))!.Id));
        }
        foreach (var worker in workers)
            await worker.StartAsync(CancellationToken.None);

        var clock = Stopwatch.StartNew();
        // 32 asking at a time, as many users pressing Send at once would.
        var replies = new List<Guid>();
        await Parallel.ForEachAsync(questions, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (q, ct) =>
        {
            var reply = (await jobs.StartAsync(q.User, q.Chat, q.Question, ct))!.Value;
            lock (replies)
                replies.Add(reply);
        });
        var started = clock.Elapsed;
        await using var db = harness.Database.CreateDbContext();
        while (await db.UsageRecords.CountAsync(u => users.Contains(u.UserId) && u.Source == UsageSource.Chat) < Replies)
            await Task.Delay(10);
        var finished = clock.Elapsed;
        foreach (var worker in workers)
            await worker.StopAsync(CancellationToken.None);

        var result = new
        {
            replies = Replies, workers = 2, askers = 32, start_per_s = Math.Round(Replies / started.TotalSeconds),
            finished_per_s = Math.Round(Replies / finished.TotalSeconds), seconds = Math.Round(finished.TotalSeconds, 2),
        };
        output.WriteLine($"reply jobs end to end: {result}");
        BenchResults.Save("replies.json", "reply_jobs_end_to_end", result);
        Assert.Equal(Replies, replies.Distinct().Count());
    }

    [Fact]
    public async Task FromSendToTheFirstWordOnAFollowingPage()
    {
        const int Replies = 100;
        var prefix = $"{harness.KeyPrefix}first-word:";
        var options = harness.ReplyOptions(prefix);
        options.Value.SaveInterval = TimeSpan.FromSeconds(1); // as shipped
        var pipeline = harness.Pipeline(new InstantEngineDouble());
        var worker = new ReplyWorker(Bus(prefix), harness.Store, pipeline, harness.UserPlans, options, NullLogger<ReplyWorker>.Instance);
        var jobs = new ReplyJobs(harness.Store, pipeline, harness.UserPlans, Bus(prefix), worker, harness.Moderation, NullLogger<ReplyJobs>.Instance);
        await worker.StartAsync(CancellationToken.None);
        var (user, _) = await harness.UserAsync();

        // One at a time, as a user sends: the reply is admitted, stored and queued (StartAsync), a worker claims it and
        // asks the engine, and the page, following from the moment StartAsync returns, sees the first word.
        var toStarted = new List<double>();
        var toFirstWord = new List<double>();
        for (var i = 0; i < Replies; i++)
        {
            var chat = await harness.Store.CreateAsync(user, "instant");
            var question = await harness.Store.AddUserMessageAsync(user, chat.Id, null, $"question {i}");
            var clock = Stopwatch.StartNew();
            var reply = (await jobs.StartAsync(user, chat.Id, question!.Id))!.Value;
            toStarted.Add(clock.Elapsed.TotalMilliseconds);
            await foreach (var update in jobs.FollowAsync(user, reply))
                if (update.Text.Length > 0 || update.Status.IsFinal())
                    break;
            toFirstWord.Add(clock.Elapsed.TotalMilliseconds);
        }
        await worker.StopAsync(CancellationToken.None);

        var (started, firstWord) = (BenchResults.Summarize(toStarted), BenchResults.Summarize(toFirstWord));
        output.WriteLine($"send → reply queued: {started}");
        output.WriteLine($"send → first word on the page: {firstWord}");
        BenchResults.Save("replies.json", "send_to_queued", started);
        BenchResults.Save("replies.json", "send_to_first_word", firstWord);
        Assert.Equal(Replies, toFirstWord.Count);
    }

    [Fact]
    public async Task EventLatencyFromAWorkersPublishToAFollowerOnTheBus()
    {
        const int Events = 2_000;
        var bus = Bus($"{harness.KeyPrefix}events:");
        var reply = Guid.NewGuid();
        await using var subscription = new SubscriptionScope(await bus.SubscribeAsync(reply));
        var sent = new double[Events];
        var latencies = new List<double>(Events);
        var reading = Task.Run(async () =>
        {
            for (var i = 0; i < Events; i++)
            {
                var message = await subscription.Queue.ReadAsync();
                var (_, _, replyEvent) = ReplyBus.ParseMessage((string)message.Message!);
                latencies.Add(Stopwatch.GetElapsedTime((long)sent[replyEvent.Offset]).TotalMilliseconds);
            }
        });
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Events; i++)
        {
            sent[i] = Stopwatch.GetTimestamp();
            await bus.PublishAsync(reply, new ReplyEvent(i, "w "));
        }
        var publishing = clock.Elapsed;
        await reading;

        var summary = BenchResults.Summarize(latencies, publishing);
        output.WriteLine($"event publish → follower: {summary}");
        BenchResults.Save("replies.json", "event_publish_to_follower", summary);
        Assert.Equal(Events, latencies.Count);
    }

    private sealed class SubscriptionScope(StackExchange.Redis.ChannelMessageQueue queue) : IAsyncDisposable
    {
        public StackExchange.Redis.ChannelMessageQueue Queue { get; } = queue;

        public async ValueTask DisposeAsync() => await Queue.UnsubscribeAsync();
    }
}
