using ChatBlazor.Core.Limits;

namespace ChatBlazor.Core.Completions;

/// <summary>Why a completion was refused before it started; the API maps each to OpenAI's status and error code.</summary>
public enum RefusalReason
{
    /// <summary>No engine serves the model (404).</summary>
    ModelNotFound,
    /// <summary>The caller's plan does not include the model (403).</summary>
    ModelNotAllowed,
    /// <summary>A field is malformed or out of range; <see cref="CompletionRefusedException.Param"/> names it (400).</summary>
    InvalidRequest,
    /// <summary>The prompt does not fit the model's context window with any reply (400).</summary>
    PromptTooLong,
    /// <summary>The request could never fit the plan's tokens per minute (413).</summary>
    TooLarge,
    /// <summary>A rate limit or quota is spent for now; <see cref="CompletionRefusedException.RetryAt"/> says when it resets (429).</summary>
    RateLimited,
    /// <summary>The caller already has as many replies running as the plan allows (429).</summary>
    TooManyRunning,
    /// <summary>Input moderation refused the prompt (400).</summary>
    Moderated,
    /// <summary>The model's chat template failed on its own (500).</summary>
    TemplateFailed,
}

/// <summary>
/// A completion refused before it started, with a message meant for the person who asked: the chat shows it as it
/// is, the API sends it in OpenAI's error object. Nothing was reserved or generated.
/// </summary>
public sealed class CompletionRefusedException(RefusalReason reason, string message, string? param = null) : Exception(message)
{
    public RefusalReason Reason { get; } = reason;

    /// <summary>The request field at fault, in OpenAI's naming (max_tokens, messages, model).</summary>
    public string? Param { get; } = param;

    /// <summary>When a spent limit resets.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>The caller's limits as they stood, for the API's x-ratelimit headers.</summary>
    public LimitDecision? Limits { get; init; }
}
