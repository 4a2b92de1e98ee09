using System.Collections.Concurrent;
using System.Diagnostics;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Tests.Completions;
using ChatBlazor.Inference.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatBlazor.Core.Tests.Replies;

/// <summary>A reply's trace crosses the Redis job bus: the worker that claims the job, on another instance, continues it.</summary>
public sealed class ReplyTracingTests(PipelineHarness harness) : IClassFixture<PipelineHarness>, IAsyncLifetime
{
    private readonly SteppedEngineDouble _engine = new(contextWindow: 512);
    private readonly List<ReplyWorker> _workers = [];
    private readonly string _keyPrefix = $"{harness.KeyPrefix}{Guid.NewGuid():N}:";
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private ActivityListener? _listener;

    public Task InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is ReplyTelemetry.Name or CompletionTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _listener?.Dispose();
        foreach (var worker in _workers)
            await worker.StopAsync(CancellationToken.None);
    }

    private (ReplyJobs Jobs, ReplyWorker Worker) Instance()
    {
        var options = harness.ReplyOptions(_keyPrefix);
        var pipeline = harness.Pipeline(_engine);
        var bus = new ReplyBus(harness.Redis, options, NullLogger<ReplyBus>.Instance);
        var worker = new ReplyWorker(bus, harness.Store, pipeline, harness.UserPlans, options, NullLogger<ReplyWorker>.Instance);
        _workers.Add(worker);
        return (new ReplyJobs(harness.Store, pipeline, harness.UserPlans, bus, worker, harness.Moderation, NullLogger<ReplyJobs>.Instance), worker);
    }

    /// <summary>The span of <paramref name="name"/> for the reply, once it has ended; waits for it with a deadline.</summary>
    private async Task<Activity> SpanAsync(string name, Guid replyId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var span = _stopped.FirstOrDefault(a => a.OperationName == name && Equals(a.GetTagItem(ReplyTelemetry.ReplyIdTag), replyId));
            if (span is not null)
                return span;
            Assert.True(DateTime.UtcNow < deadline, $"No {name} span ended for reply {replyId}.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task TheWorkerOfAnotherInstanceContinuesTheTraceOfTheEnqueue()
    {
        var (asking, _) = Instance(); // this instance's worker never starts: only the other one can claim the job
        var (following, worker) = Instance();
        await worker.StartAsync(CancellationToken.None);
        var (user, _) = await harness.UserAsync("Free");
        var chat = await harness.Store.CreateAsync(user, "double");
        var question = await harness.Store.AddUserMessageAsync(user, chat.Id, null, "count");

        using var send = new Activity("test send").SetIdFormat(ActivityIdFormat.W3C).Start(); // the chat page's span
        var reply = (await asking.StartAsync(user, chat.Id, question!.Id))!.Value;
        send.Stop();
        await _engine.Asked.ReadAsync();
        _engine.Send("1, 2, 3", FinishReason.Stop);
        await foreach (var update in following.FollowAsync(user, reply))
            _ = update;
        await _engine.Asked.ReadAsync(); // the first reply of a chat names it, in the same run
        _engine.Send("Counting", FinishReason.Stop);

        var enqueue = await SpanAsync("reply.enqueue", reply);
        var run = await SpanAsync("reply.run", reply);
        var completions = _stopped.Where(a => a.OperationName == "completion.run" && a.ParentSpanId == run.SpanId).ToList();
        Assert.Equal(send.TraceId, enqueue.TraceId);
        Assert.Equal((enqueue.TraceId, enqueue.SpanId), (run.TraceId, run.ParentSpanId));
        Assert.Equal(ActivityKind.Consumer, run.Kind);
        // The reply and the chat's title, both run by that worker inside its span.
        Assert.Equal(["chat:complete", "title:complete"],
            completions.Select(c => $"{c.GetTagItem("chatblazor.source")}:{c.GetTagItem("chatblazor.status")}").Order());
    }
}
