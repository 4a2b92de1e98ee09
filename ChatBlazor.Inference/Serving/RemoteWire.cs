using System.Globalization;
using System.Text.Json;
using ChatBlazor.Inference.Generation;

namespace ChatBlazor.Inference.Serving;

/// <summary>What <see cref="RemoteEngine"/> sends: a streaming request that names only what differs from the defaults.</summary>
internal static class RemoteRequests
{
    public static OpenAiSamplingRequest Build(CompletionRequest request)
    {
        var s = request.Sampling;
        var prefix = request.AssistantPrefix is { Length: > 0 } p ? p : null;
        OpenAiSamplingRequest body = request.Messages is { } messages
            ? new ChatCompletionRequest
            {
                // A reply to continue goes last, as the assistant message continue_final_message names.
                Messages = [.. (prefix is null ? messages : [.. messages, new ChatMessage("assistant", prefix)])
                    .Select(m => new ChatMessageRequest { Role = m.Role, Content = JsonSerializer.SerializeToElement(m.Content) })],
                Logprobs = s.TopLogprobs is null ? null : true,
                TopLogprobs = s.TopLogprobs,
                ContinueFinalMessage = prefix is null ? null : true,
                AddGenerationPrompt = prefix is null ? null : false,
            }
            : new CompletionsRequest
            {
                Prompt = request.PromptTokens is { } ids
                    ? (prefix is null ? JsonSerializer.SerializeToElement(ids) : throw new ArgumentException("a remote host cannot continue a prompt of token ids", "prompt"))
                    : JsonSerializer.SerializeToElement((request.Prompt ?? "") + prefix),
                Logprobs = s.TopLogprobs,
            };
        // Extensions (top_k, min_p, repetition_penalty, ignore_eos) only when used: OpenAI itself rejects them.
        return body with
        {
            Model = request.Model,
            MaxTokens = s.MaxTokens,
            Temperature = s.Temperature,
            TopP = s.TopP != 1 ? s.TopP : null,
            TopK = s.TopK != 0 ? s.TopK : null,
            MinP = s.MinP != 0 ? s.MinP : null,
            RepetitionPenalty = s.RepetitionPenalty != 1 ? s.RepetitionPenalty : null,
            FrequencyPenalty = s.FrequencyPenalty != 0 ? s.FrequencyPenalty : null,
            PresencePenalty = s.PresencePenalty != 0 ? s.PresencePenalty : null,
            LogitBias = s.LogitBias?.ToDictionary(b => b.Key.ToString(CultureInfo.InvariantCulture), b => b.Value),
            Seed = s.Seed,
            Stop = s.Stop.Count > 0 ? JsonSerializer.SerializeToElement(s.Stop) : null,
            IgnoreEos = s.IgnoreEos ? true : null,
            Stream = true,
            StreamOptions = new StreamOptions { IncludeUsage = true },
        };
    }
}

/// <summary>What <see cref="RemoteEngine"/> reads back: SSE payloads and error bodies, tolerant of fields other servers add or leave out.</summary>
internal static class RemoteChunks
{
    public static GenerationChunk Parse(string data, bool chat)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException e)
        {
            throw new EngineUnavailableException("The model server sent a reply that could not be read.", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new EngineUnavailableException("The model server sent a reply that could not be read.");
            if (root.TryGetProperty("error", out var error))
                throw new EngineUnavailableException($"The model server failed mid-reply: {MessageOf(error) ?? "no reason given"}");

            var (text, finish) = ("", (FinishReason?)null);
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                var content = chat
                    ? choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object ? String(delta, "content") : null
                    : String(choice, "text");
                text = content ?? "";
                // Anything but "length" (stop, eos, tool_calls, content_filter) means the model chose to end.
                finish = String(choice, "finish_reason") switch
                {
                    null => null,
                    "length" => FinishReason.Length,
                    _ => FinishReason.Stop,
                };
            }
            GenerationUsage? usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
                ? new GenerationUsage(Int(u, "prompt_tokens"), Int(u, "completion_tokens"))
                : null;
            return new GenerationChunk(text, [], null, finish, usage);
        }
    }

    /// <summary>The message and param of an error body, OpenAI's shape or the bare one some servers send.</summary>
    public static (string Message, string? Param)? Error(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return null;
            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
            return MessageOf(error) is { } message ? (message, String(error, "param")) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? MessageOf(JsonElement error) =>
        error.ValueKind == JsonValueKind.String ? error.GetString()
        : error.ValueKind == JsonValueKind.Object ? String(error, "message")
        : null;

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : 0;
}
