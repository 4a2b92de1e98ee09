using System.Text;

namespace ChatBlazor.Inference.Contracts;

/// <summary>
/// What the rest of the system codes against, whether the engine runs in this process or on a remote host.
/// Exactly one of <see cref="Messages"/> (chat, formatted with the model's template), <see cref="Prompt"/> (raw
/// text) or <see cref="PromptTokens"/> (token ids) is set.
/// </summary>
/// <param name="AssistantPrefix">The start of the reply, already written: the engine continues it rather than
/// starting over (a reply resumed after the worker that ran it died). Empty or null for a new reply.</param>
public sealed record CompletionRequest(
    string Model,
    SamplingParams Sampling,
    IReadOnlyList<ChatMessage>? Messages = null,
    string? Prompt = null,
    IReadOnlyList<int>? PromptTokens = null,
    string? AssistantPrefix = null);

/// <summary>A served model: its window, and the sampling defaults of its generation_config.json where known.</summary>
public sealed record ModelInfo(string Name, int ContextWindow, double? Temperature = null, double? TopP = null);

/// <summary>
/// A prompt as the engine would run it. <see cref="Ids"/> are the exact tokens where the engine has the model's
/// tokenizer (then a request can carry them, and nothing is rendered or tokenized twice); null where it only
/// estimates <see cref="Count"/> (a remote host), so the request must carry the messages or text instead.
/// </summary>
public sealed record TokenizedPrompt(int Count, IReadOnlyList<int>? Ids)
{
    /// <summary>
    /// On the long side, for engines without the model's tokenizer: about four UTF-8 bytes make a token in English,
    /// so a third of the bytes.
    /// </summary>
    public static TokenizedPrompt Estimate(string text) => new(Encoding.UTF8.GetByteCount(text) / 3 + 1, null);

    /// <summary>The estimate for a chat: every message's text plus framing per message and for the reply's header.</summary>
    public static TokenizedPrompt Estimate(IReadOnlyList<ChatMessage> messages) =>
        new(messages.Sum(m => Encoding.UTF8.GetByteCount(m.Content) / 3 + 8) + 8, null);
}

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
    /// The chat rendered with the model's template (with the reply's header) and tokenized: the prompt
    /// <see cref="GenerateAsync"/> would run. Throws <see cref="ChatTemplateException"/> when the template refuses it.
    /// </summary>
    TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) => TokenizedPrompt.Estimate(messages);

    /// <summary>The text alone, tokenized (no template, no special tokens).</summary>
    TokenizedPrompt Tokenize(string model, string text) => TokenizedPrompt.Estimate(text);
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
