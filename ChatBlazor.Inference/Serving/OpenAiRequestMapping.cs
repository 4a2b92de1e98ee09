using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// Turns the wire requests into <see cref="CompletionRequest"/>s. What is malformed here throws
/// <see cref="ArgumentException"/> with ParamName = the OpenAI field, which the host turns into a 400 naming it;
/// ranges are the engine's to check (<see cref="SamplingParams.Validate"/>), since only it knows the vocabulary.
/// </summary>
internal static class OpenAiRequestMapping
{
    public static CompletionRequest ToCompletionRequest(this ChatCompletionRequest request)
    {
        var model = RequireModel(request);
        if (request.Messages is not { Count: > 0 } messages)
            throw Invalid("messages", "messages must be a non-empty array");
        if (request.TopLogprobs is not null && request.Logprobs != true)
            throw Invalid("top_logprobs", "top_logprobs needs logprobs: true");
        var chat = messages.Select((m, i) => new ChatMessage(
            m.Role is { Length: > 0 } role ? role : throw Invalid("messages", $"messages[{i}].role is required"),
            ContentText(m.Content, i))).ToList();
        var sampling = ToSampling(request, request.MaxCompletionTokens ?? request.MaxTokens,
            request.Logprobs == true ? request.TopLogprobs ?? 0 : null);
        if (request.ContinueFinalMessage != true)
            return new CompletionRequest(model, sampling, Messages: chat);
        // vLLM's extension, which the web app's remote client sends to resume a reply: the last message is the
        // start of the reply, to be continued rather than answered.
        if (chat[^1].Role != "assistant")
            throw Invalid("continue_final_message", "continue_final_message needs an assistant message last");
        return new CompletionRequest(model, sampling, Messages: chat[..^1], AssistantPrefix: chat[^1].Content);
    }

    public static CompletionRequest ToCompletionRequest(this CompletionsRequest request)
    {
        var model = RequireModel(request);
        if (request.Echo == true)
            throw Invalid("echo", "echo is not supported");
        var (text, tokens) = Prompt(request.Prompt);
        return new CompletionRequest(model, ToSampling(request, request.MaxTokens, request.Logprobs), Prompt: text, PromptTokens: tokens);
    }

    public static bool IncludeUsage(this OpenAiSamplingRequest request) => request.StreamOptions?.IncludeUsage == true;

    private static string RequireModel(OpenAiSamplingRequest request) =>
        request.Model is { Length: > 0 } model ? model : throw Invalid("model", "model is required");

    private static SamplingParams ToSampling(OpenAiSamplingRequest r, int? maxTokens, int? topLogprobs)
    {
        if (r.N is { } n && n != 1)
            throw Invalid("n", "n must be 1: send one request per choice");
        var defaults = new SamplingParams();
        return new SamplingParams
        {
            Temperature = r.Temperature ?? defaults.Temperature,
            TopP = r.TopP ?? defaults.TopP,
            TopK = r.TopK ?? defaults.TopK,
            MinP = r.MinP ?? defaults.MinP,
            RepetitionPenalty = r.RepetitionPenalty ?? defaults.RepetitionPenalty,
            FrequencyPenalty = r.FrequencyPenalty ?? defaults.FrequencyPenalty,
            PresencePenalty = r.PresencePenalty ?? defaults.PresencePenalty,
            LogitBias = r.LogitBias?.ToDictionary(
                b => int.TryParse(b.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                    ? id
                    : throw Invalid("logit_bias", $"logit_bias keys must be token ids, got '{b.Key}'"),
                b => b.Value),
            Seed = r.Seed,
            MaxTokens = maxTokens ?? defaults.MaxTokens,
            Stop = Stop(r.Stop),
            IgnoreEos = r.IgnoreEos ?? false,
            TopLogprobs = topLogprobs,
        };
    }

    private static IReadOnlyList<string> Stop(JsonElement? stop) => stop switch
    {
        null => [],
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            [.. a.EnumerateArray().Select(e => e.GetString()!)],
        _ => throw Invalid("stop", "stop must be a string or an array of strings"),
    };

    private static string ContentText(JsonElement? content, int index)
    {
        switch (content)
        {
            case null:
                return ""; // an assistant turn that only called tools
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString()!;
            case { ValueKind: JsonValueKind.Array } parts:
                var text = new StringBuilder();
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object
                        || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text"
                        || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                        throw Invalid("messages", $"messages[{index}].content: only {{\"type\":\"text\",\"text\":...}} parts are supported");
                    text.Append(t.GetString());
                }
                return text.ToString();
            default:
                throw Invalid("messages", $"messages[{index}].content must be a string or an array of text parts");
        }
    }

    private static (string? Text, int[]? Tokens) Prompt(JsonElement? prompt)
    {
        var single = prompt is { ValueKind: JsonValueKind.Array } one && one.GetArrayLength() == 1
            && one[0].ValueKind is JsonValueKind.String or JsonValueKind.Array
            ? one[0]
            : prompt;
        return single switch
        {
            { ValueKind: JsonValueKind.String } s => (s.GetString(), null),
            { ValueKind: JsonValueKind.Array } ids when ids.GetArrayLength() > 0 && ids.EnumerateArray().All(IsTokenId) =>
                (null, [.. ids.EnumerateArray().Select(e => e.GetInt32())]),
            { ValueKind: JsonValueKind.Array } => throw Invalid("prompt", "prompt must be one string or one array of token ids; batches are not supported"),
            _ => throw Invalid("prompt", "prompt is required: a string or an array of token ids"),
        };

        static bool IsTokenId(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var id) && id >= 0;
    }

    private static ArgumentException Invalid(string field, string message) => new(message, field);
}
