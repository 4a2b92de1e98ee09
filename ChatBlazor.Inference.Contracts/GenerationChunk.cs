namespace ChatBlazor.Inference.Contracts;

public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop sequence.</summary>
    Stop,
    /// <summary>max_tokens, or the model's context window, was reached.</summary>
    Length,
    Cancelled,
}

/// <summary>An alternative token; <see cref="Text"/> is its decoded text when the model has a tokenizer.</summary>
public sealed record TopToken(int Id, float Logprob, string? Text = null);

/// <summary>The chosen token, its log-probability under the model, and the most likely alternatives.</summary>
public sealed record SampledToken(int Id, float Logprob, IReadOnlyList<TopToken>? Top, string? Text = null);

public sealed record GenerationUsage(int PromptTokens, int CompletionTokens);

/// <summary>
/// One piece of a streamed completion: the text that became final, the token ids behind it, and on the last chunk
/// why generation ended and how many tokens it used. <see cref="Model"/> names the model that produced it where
/// the caller asked for another name (the <c>auto</c> router's choice); engines leave it null.
/// </summary>
public sealed record GenerationChunk(
    string Text,
    IReadOnlyList<int> TokenIds,
    IReadOnlyList<SampledToken>? Logprobs = null,
    FinishReason? FinishReason = null,
    GenerationUsage? Usage = null,
    string? Model = null);
