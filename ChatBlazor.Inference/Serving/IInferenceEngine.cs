using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// What the rest of the system codes against, whether the engine runs in this process or on a remote host.
/// Exactly one of <see cref="Messages"/> (chat, formatted with the model's template), <see cref="Prompt"/> (raw
/// text) or <see cref="PromptTokens"/> (token ids) is set.
/// </summary>
public sealed record CompletionRequest(
    string Model,
    SamplingParams Sampling,
    IReadOnlyList<ChatMessage>? Messages = null,
    string? Prompt = null,
    IReadOnlyList<int>? PromptTokens = null);

/// <summary>A served model: its window, and the sampling defaults of its generation_config.json where known.</summary>
public sealed record ModelInfo(string Name, int ContextWindow, double? Temperature = null, double? TopP = null);

public interface IInferenceEngine
{
    IReadOnlyList<ModelInfo> Models { get; }

    /// <summary>
    /// Streams the completion; the last chunk has the finish reason and usage. Throws before the first chunk:
    /// <see cref="ModelNotFoundException"/>, <see cref="EngineOverloadedException"/> when the queue is full, and
    /// <see cref="ArgumentException"/> for a request the model cannot serve (prompt too long, bad parameters).
    /// A remote host that fails mid-stream ends the enumeration with <see cref="EngineUnavailableException"/>.
    /// </summary>
    IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// How many tokens these messages take as a prompt (with the generation prompt), for fitting history into the
    /// window. Exact where the engine has the model's tokenizer; otherwise an estimate on the long side: about four
    /// UTF-8 bytes make a token in English, so a third of the bytes, plus framing per message.
    /// </summary>
    int CountChatTokens(string model, IReadOnlyList<ChatMessage> messages) =>
        messages.Sum(m => System.Text.Encoding.UTF8.GetByteCount(m.Content) / 3 + 8) + 8;
}

public sealed class ModelNotFoundException(string model)
    : Exception($"The model '{model}' does not exist on this engine.")
{
    public string Model { get; } = model;
}

/// <summary>The request queue is full: the caller should retry later (HTTP 503 with Retry-After).</summary>
public sealed class EngineOverloadedException(string message) : Exception(message);

/// <summary>The engine could not be reached or went away mid-stream.</summary>
public sealed class EngineUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
