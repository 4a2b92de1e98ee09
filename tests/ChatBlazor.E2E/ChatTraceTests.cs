using System.Collections.Concurrent;
using System.Diagnostics;
using ChatBlazor.Core.Replies;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>
/// One trace from the browser's send to the reply's run: the chat page starts <c>chat.send</c> (a circuit has no HTTP
/// request), the reply job carries its <c>traceparent</c> over Redis, and the worker's <c>reply.run</c> and the
/// pipeline's <c>completion.run</c> continue it. The app runs in this process, so a listener here sees its spans.
/// </summary>
public sealed class ChatTraceTests(BrowserApp app) : IClassFixture<BrowserApp>, IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name.StartsWith("ChatBlazor.", StringComparison.Ordinal),
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task ASentMessageAndItsReplyShareOneTrace()
    {
        _listener.ActivityStopped = _stopped.Enqueue;
        ActivitySource.AddActivityListener(_listener);
        var page = await ChatFlowTests.SignedInPageAsync(app);

        await ChatFlowTests.SendAsync(page, "Trace this message, please.");
        var reply = page.GetByTestId("message-assistant").Last;
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 60_000 });
        var replyId = Guid.Parse((await reply.GetAttributeAsync("data-message-id"))!);

        // The run's span stops after the reply is stored complete: poll for it (other tests' spans pass by too).
        Activity? run = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); run is null && DateTime.UtcNow < deadline; await Task.Delay(50)) // polling a condition
            run = _stopped.FirstOrDefault(a => a.OperationName == "reply.run" && Equals(a.GetTagItem(ReplyTelemetry.ReplyIdTag), replyId));
        Assert.NotNull(run);
        var trace = _stopped.Where(a => a.TraceId == run.TraceId).ToList();
        Assert.Single(trace, a => a.OperationName == "chat.send");
        var enqueue = Assert.Single(trace, a => a.OperationName == "reply.enqueue");
        Assert.Equal(enqueue.SpanId, run.ParentSpanId);
        Assert.Contains(trace, a => a.OperationName == "completion.run" && a.ParentSpanId == run.SpanId);
    }
}
