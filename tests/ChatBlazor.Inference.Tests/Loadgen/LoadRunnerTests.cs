using System.Collections.Concurrent;
using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class LoadRunnerTests
{
    /// <summary>Test double for a target: answers at once through <paramref name="answer"/>, by request index.</summary>
    private sealed class ScriptedTarget(Func<LoadRequest, CancellationToken, Task<RequestResult>> answer) : ILoadTarget
    {
        public Task<RequestResult> SendAsync(LoadRequest request, CancellationToken cancellationToken) => answer(request, cancellationToken);
    }

    private static readonly RequestResult Done = RequestResult.Completed(4, 2, [0.01, 0.02], 0.03);

    private static List<LoadRequest> Requests(int count) => PromptFactory.TokenPrompts(count, 4, 0, 2, vocabSize: 10, seed: 0);

    [Fact]
    public async Task ConcurrencyCapAdmitsExactlyCapRequestsAndANewOneOnlyAsOneFinishes()
    {
        var pending = new ConcurrentQueue<TaskCompletionSource<RequestResult>>();
        using var entered = new SemaphoreSlim(0);
        int inFlight = 0, maxInFlight = 0;
        var target = new ScriptedTarget(async (_, _) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            var answer = new TaskCompletionSource<RequestResult>();
            pending.Enqueue(answer);
            entered.Release();
            var result = await answer.Task;
            Interlocked.Decrement(ref inFlight);
            return result;
        });

        // With nothing finished, starting the run admits requests synchronously: exactly the cap, whatever the timing.
        var running = new LoadRunner(target, concurrency: 3, arrivals: null).RunAsync(Requests(10), CancellationToken.None);
        Assert.Equal(3, pending.Count);

        // Then finish them one at a time; each finish lets exactly one more in.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)), "a request was never admitted"); // safety net, not a timing check
            Assert.True(pending.TryDequeue(out var next));
            next.SetResult(Done);
        }
        var run = await running;

        Assert.All(run.Results, r => Assert.True(r!.Succeeded));
        Assert.Equal(3, maxInFlight);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
                return;
    }

    [Fact]
    public async Task DeadlineStopsTheRunAndKeepsWhatCompleted()
    {
        // The deadline is simulated by the fourth request firing it, so the test does not depend on time.
        using var deadline = new CancellationTokenSource();
        var target = new ScriptedTarget(async (request, token) =>
        {
            if (request.Index < 3)
                return Done;
            await deadline.CancelAsync();
            await Task.Delay(Timeout.Infinite, token);
            return Done;
        });

        var report = LoadReport.From(await new LoadRunner(target, concurrency: 1, arrivals: null).RunAsync(Requests(10), deadline.Token));

        Assert.Equal((3, 0, 7), (report.Completed, report.Failed, report.Unfinished));
    }

    [Fact]
    public async Task ATargetThatThrowsCountsAsAFailureAndTheRunGoesOn()
    {
        var target = new ScriptedTarget((request, _) => request.Index == 1
            ? throw new InvalidOperationException("engine bug")
            : Task.FromResult(Done));

        var run = await new LoadRunner(target, concurrency: 2, arrivals: null).RunAsync(Requests(4), CancellationToken.None);
        var report = LoadReport.From(run);

        Assert.Equal((3, 1), (report.Completed, report.Failed));
        Assert.Equal("InvalidOperationException: engine bug", run.Results[1]!.Error);
    }

    [Fact]
    public async Task ARateWithoutACapStillSendsEveryRequest()
    {
        var sent = 0;
        var target = new ScriptedTarget((_, _) =>
        {
            Interlocked.Increment(ref sent);
            return Task.FromResult(Done);
        });

        // A high rate keeps the arrival waits to microseconds; the count, not the timing, is what is checked.
        var run = await new LoadRunner(target, concurrency: null, new PoissonArrivals(100_000, seed: 0)).RunAsync(Requests(20), CancellationToken.None);

        Assert.Equal(20, sent);
        Assert.All(run.Results, r => Assert.True(r!.Succeeded));
    }
}
