using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Completions;

/// <summary>
/// Where a completion stands, in one vocabulary for chat messages, usage rows and the API. A chat reply goes
/// Queued → Streaming → one of the endings; an API completion only has an ending. Stored by name.
/// </summary>
public enum CompletionStatus
{
    /// <summary>A reply job waits for a worker.</summary>
    Queued,
    /// <summary>A worker is generating the reply.</summary>
    Streaming,
    /// <summary>The model ended its answer (an end token or a stop sequence): OpenAI's finish reason "stop".</summary>
    Complete,
    /// <summary>The reply budget (max tokens) or the context window ran out: OpenAI's "length".</summary>
    Length,
    /// <summary>Ended early on purpose: the user pressed Stop, or the API client went away.</summary>
    Stopped,
    /// <summary>The engine failed, its host died, or the server could not finish it.</summary>
    Failed,
    /// <summary>Output moderation ended it: OpenAI's "content_filter".</summary>
    Filtered,
}

public static class CompletionStatuses
{
    public static bool IsFinal(this CompletionStatus status) => status is not (CompletionStatus.Queued or CompletionStatus.Streaming);

    /// <summary>OpenAI's finish_reason for an ending; null where OpenAI has none (the stream just ends).</summary>
    public static string? FinishReason(this CompletionStatus status) => status switch
    {
        CompletionStatus.Complete => "stop",
        CompletionStatus.Length => "length",
        CompletionStatus.Filtered => "content_filter",
        _ => null,
    };

    /// <summary>The ending an engine's finish reason means.</summary>
    public static CompletionStatus From(FinishReason reason) => reason switch
    {
        Inference.Contracts.FinishReason.Stop => CompletionStatus.Complete,
        Inference.Contracts.FinishReason.Length => CompletionStatus.Length,
        _ => CompletionStatus.Stopped,
    };
}
