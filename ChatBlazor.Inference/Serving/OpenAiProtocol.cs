using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatBlazor.Inference.Serving;

// The OpenAI wire format, spelled as OpenAI spells it: property names go through SnakeCaseLower, so MaxTokens is
// max_tokens. Fields that take more than one JSON shape (content, stop, prompt) stay JsonElement and are read by
// OpenAiRequestMapping, which can name the field in a 400.

public static class OpenAiJson
{
    /// <summary>
    /// Responses keep their nulls (<c>"finish_reason": null</c>), as OpenAI's do. Text is written as UTF-8, not as
    /// \uXXXX escapes (six bytes per character of any non-Latin reply); no response is ever embedded in HTML.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Requests leave out what is not set, so a strict server never sees an extension field it rejects.</summary>
    public static JsonSerializerOptions Requests { get; } = new(Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
}

/// <summary>The sampling fields that <c>/v1/chat/completions</c> and <c>/v1/completions</c> share.</summary>
public abstract record OpenAiSamplingRequest
{
    public string? Model { get; init; }
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    /// <summary>Extension (vLLM's): 0 or absent keeps every token.</summary>
    public int? TopK { get; init; }
    public double? MinP { get; init; }
    public double? RepetitionPenalty { get; init; }
    public double? FrequencyPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    /// <summary>Token ids, written as strings because JSON object keys are, to biases.</summary>
    public Dictionary<string, double>? LogitBias { get; init; }
    public long? Seed { get; init; }
    /// <summary>A string or an array of strings.</summary>
    public JsonElement? Stop { get; init; }
    /// <summary>Only 1 is served.</summary>
    public int? N { get; init; }
    public bool? Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public bool? IgnoreEos { get; init; }
}

public sealed record StreamOptions
{
    public bool? IncludeUsage { get; init; }
}

public sealed record ChatCompletionRequest : OpenAiSamplingRequest
{
    public IReadOnlyList<ChatMessageRequest>? Messages { get; init; }
    /// <summary>OpenAI's newer name for max_tokens; wins when both are given.</summary>
    public int? MaxCompletionTokens { get; init; }
    public bool? Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
    /// <summary>Extension (vLLM's): the last message is an assistant reply to continue, not to answer.</summary>
    public bool? ContinueFinalMessage { get; init; }
    /// <summary>Extension (vLLM's): false with <see cref="ContinueFinalMessage"/>; accepted and otherwise ignored.</summary>
    public bool? AddGenerationPrompt { get; init; }
}

public sealed record ChatMessageRequest
{
    public string? Role { get; init; }
    /// <summary>A string, an array of <c>{"type":"text","text":...}</c> parts, or null.</summary>
    public JsonElement? Content { get; init; }
}

public sealed record CompletionsRequest : OpenAiSamplingRequest
{
    /// <summary>A string, an array of token ids, or a one-element array of either.</summary>
    public JsonElement? Prompt { get; init; }
    /// <summary>Not supported: true is a 400.</summary>
    public bool? Echo { get; init; }
    /// <summary>The legacy API's field: how many alternatives to report per token.</summary>
    public int? Logprobs { get; init; }
}

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record ChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage);

public sealed record ChatChoice(int Index, ResponseMessage Message, ChatLogprobs? Logprobs, string? FinishReason);

public sealed record ResponseMessage(string Role, string? Content);

public sealed record ChatCompletionChunk(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChatChunkChoice> Choices,
    // Only the include_usage chunk has it; leaving it out elsewhere is what "usage not requested" looks like.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage = null);

public sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason);

public sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content = null);

public sealed record ChatLogprobs(IReadOnlyList<TokenLogprob> Content);

public sealed record TokenLogprob(string Token, double Logprob, IReadOnlyList<int>? Bytes, IReadOnlyList<TopTokenLogprob> TopLogprobs);

public sealed record TopTokenLogprob(string Token, double Logprob, IReadOnlyList<int>? Bytes);

/// <summary><c>text_completion</c>: the whole reply, or one streamed chunk of it.</summary>
public sealed record TextCompletion(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<TextChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage = null);

public sealed record TextChoice(int Index, string Text, CompletionLogprobs? Logprobs, string? FinishReason);

public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<double> TokenLogprobs,
    IReadOnlyList<IReadOnlyDictionary<string, double>?> TopLogprobs,
    IReadOnlyList<int> TextOffset);

public sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, int? MaxModelLen);

public sealed record ErrorResponse(ErrorBody Error);

public sealed record ErrorBody(string Message, string Type, string? Param, string? Code);
