using System.Diagnostics;

namespace ChatBlazor.Inference.Loadgen;

/// <summary>What a run produced: one result per request, null for those the deadline cut off, and its wall time.</summary>
internal sealed record LoadRun(IReadOnlyList<RequestResult?> Results, double DurationS);

/// <summary>
/// Sends requests on a schedule: at Poisson arrival times when a rate is given (all at once otherwise), and never
/// more than <c>concurrency</c> in flight when a cap is given. Both together give a rate that a cap may hold back,
/// as in vLLM's benchmark_serving.py: an arrival waits for a free slot.
/// </summary>
internal sealed class LoadRunner(ILoadTarget target, int? concurrency, PoissonArrivals? arrivals)
{
    /// <summary>
    /// Runs every request to its end, or until <paramref name="cancellationToken"/> fires (the deadline, Ctrl+C):
    /// then in-flight requests are abandoned and the run returns what finished. Never throws for a failed request.
    /// </summary>
    public async Task<LoadRun> RunAsync(IReadOnlyList<LoadRequest> requests, CancellationToken cancellationToken)
    {
        using var slots = concurrency is { } cap ? new SemaphoreSlim(cap, cap) : null;
        var results = new RequestResult?[requests.Count];
        var running = new List<Task>(requests.Count);
        var start = Stopwatch.GetTimestamp();
        var nextArrivalS = 0.0;
        try
        {
            foreach (var request in requests)
            {
                if (arrivals is not null)
                {
                    // Arrival times are absolute, so time lost starting one request does not push back all later ones.
                    nextArrivalS += arrivals.NextGapS();
                    var wait = TimeSpan.FromSeconds(nextArrivalS) - Stopwatch.GetElapsedTime(start);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, cancellationToken);
                }
                cancellationToken.ThrowIfCancellationRequested();
                running.Add(RunOneAsync(request, slots, results, cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The deadline came before every request was sent: the unsent ones stay null.
        }
        await Task.WhenAll(running);
        return new LoadRun(results, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private async Task RunOneAsync(LoadRequest request, SemaphoreSlim? slots, RequestResult?[] results, CancellationToken cancellationToken)
    {
        try
        {
            if (slots is not null)
                await slots.WaitAsync(cancellationToken);
            try
            {
                results[request.Index] = await target.SendAsync(request, cancellationToken);
            }
            finally
            {
                slots?.Release();
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Cut off by the deadline: neither completed nor failed, reported as unfinished.
        }
        catch (Exception e)
        {
            // A target is meant to return failures, not throw them; one that throws still must not end the run.
            results[request.Index] = RequestResult.Failed($"{e.GetType().Name}: {e.Message}");
        }
    }
}
