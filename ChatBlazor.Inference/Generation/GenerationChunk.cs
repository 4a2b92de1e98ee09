using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Generation;

public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop sequence.</summary>
    Stop,
    /// <summary>max_tokens, or the model's context window, was reached.</summary>
    Length,
    Cancelled,
}

public sealed record GenerationUsage(int PromptTokens, int CompletionTokens);

/// <summary>
/// One piece of a streamed completion: the text that became final, the token ids behind it, and on the last chunk
/// why generation ended and how many tokens it used.
/// </summary>
public sealed record GenerationChunk(
    string Text,
    IReadOnlyList<int> TokenIds,
    IReadOnlyList<SampledToken>? Logprobs = null,
    FinishReason? FinishReason = null,
    GenerationUsage? Usage = null);
