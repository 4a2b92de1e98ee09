using System.Diagnostics;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Loadgen;

/// <summary>
/// Sends requests straight to an engine in this process: the engine's own speed, without HTTP and JSON. The same
/// request as over HTTP: greedy, exactly max_tokens, timestamped per chunk with output.
/// </summary>
internal sealed class EmbeddedEngineTarget(IInferenceEngine engine, string model) : ILoadTarget
{
    public async Task<RequestResult> SendAsync(LoadRequest request, CancellationToken cancellationToken)
    {
        var sampling = SamplingParams.Greedy with { MaxTokens = request.MaxTokens, IgnoreEos = true };
        var completion = request.PromptText is { } text
            ? new CompletionRequest(model, sampling, Messages: [new ChatMessage("user", text)])
            : new CompletionRequest(model, sampling, PromptTokens: request.PromptTokens);
        var chunkTimes = new List<double>(request.MaxTokens);
        int? promptTokens = null, usageTokens = null;
        var tokenIds = 0;
        var start = Stopwatch.GetTimestamp();
        try
        {
            await foreach (var chunk in engine.GenerateAsync(completion, cancellationToken))
            {
                if (chunk.Text.Length > 0 || chunk.TokenIds.Count > 0)
                    chunkTimes.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                tokenIds += chunk.TokenIds.Count;
                if (chunk.Usage is { } usage)
                    (promptTokens, usageTokens) = (usage.PromptTokens, usage.CompletionTokens);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Overloaded, unknown model, a prompt too long, or a bug in the engine: all are the run's findings.
            return RequestResult.Failed($"{e.GetType().Name}: {e.Message}");
        }
        // The engine ends a cancelled stream normally (with its final chunk) instead of throwing: unfinished, not done.
        cancellationToken.ThrowIfCancellationRequested();
        return RequestResult.Completed(promptTokens ?? request.PromptLength, usageTokens ?? (tokenIds > 0 ? tokenIds : null),
            chunkTimes, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }
}
