using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>
/// A test double for the engine: streams the chunks it is given, or fails where it is told to, and records the
/// request it received and whether its cancellation token fired.
/// </summary>
internal sealed class ScriptedEngine : IInferenceEngine
{
    public const string ModelName = "scripted";
    private readonly TaskCompletionSource<CompletionRequest> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<ModelInfo> Models { get; } = [new(ModelName, 4096)];

    /// <summary>"Hello", ", world", "!" then stop, with usage 5 + 3.</summary>
    public IReadOnlyList<GenerationChunk> Chunks { get; init; } =
    [
        new("Hello", [9707]),
        new(", world", [11, 1879]),
        new("!", [0], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(5, 3)),
    ];

    /// <summary>Thrown on the first MoveNext, as the engine throws overload or bad prompts.</summary>
    public Exception? FailBeforeFirstChunk { get; init; }

    /// <summary>After this many chunks the engine throws, as a crashed scheduler would.</summary>
    public int? FailAfterChunks { get; init; }

    /// <summary>After all chunks, waits for cancellation instead of ending, as a long generation does.</summary>
    public bool WaitForCancellation { get; init; }

    public Task<CompletionRequest> Received => _received.Task;

    public Task Cancelled => _cancelled.Task;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _received.TrySetResult(request);
        using var registration = cancellationToken.Register(() => _cancelled.TrySetResult());
        if (request.Model != ModelName)
            throw new ModelNotFoundException(request.Model);
        request.Sampling.Validate(vocabSize: 32_000); // the real engine validates too, against its vocabulary
        if (FailBeforeFirstChunk is { } failure)
            throw failure;
        await Task.Yield();
        for (var i = 0; i < Chunks.Count; i++)
        {
            if (i == FailAfterChunks)
                throw new InvalidOperationException("scripted failure with secret internals");
            yield return Chunks[i];
        }
        if (WaitForCancellation)
            await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    public static SampledToken Sampled(int id, float logprob, params TopToken[] top) => new(id, logprob, top);
}
