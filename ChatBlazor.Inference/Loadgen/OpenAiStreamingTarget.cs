using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ChatBlazor.Inference.Loadgen;

internal enum LoadgenEndpoint
{
    Completions,
    Chat,
}

/// <summary>
/// Streams requests from an OpenAI-compatible server (ours, vLLM, ...) over server-sent events and timestamps every
/// chunk that carries output text. Token counts come from the final usage chunk, which <c>include_usage</c> asks for.
/// </summary>
internal sealed class OpenAiStreamingTarget(HttpClient http, Uri baseUrl, string model, LoadgenEndpoint endpoint) : ILoadTarget
{
    private readonly Uri _url = new(baseUrl, endpoint == LoadgenEndpoint.Chat ? "v1/chat/completions" : "v1/completions");

    public async Task<RequestResult> SendAsync(LoadRequest request, CancellationToken cancellationToken)
    {
        using var body = new ByteArrayContent(RequestBody(request));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var start = Stopwatch.GetTimestamp();
        try
        {
            // Headers only: the default would buffer the whole stream and every token would seem to arrive at the end.
            using var message = new HttpRequestMessage(HttpMethod.Post, _url) { Content = body };
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                return RequestResult.Failed($"HTTP {(int)response.StatusCode}: {ErrorMessage(text)}");
            }
            return await ReadStreamAsync(response, request, start, cancellationToken);
        }
        // A cancelled run may surface as any of these; it is not the server's failure, so it propagates.
        catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                  && e is HttpRequestException or IOException or JsonException or TaskCanceledException)
        {
            return RequestResult.Failed($"{e.GetType().Name}: {e.Message}");
        }
    }

    private async Task<RequestResult> ReadStreamAsync(HttpResponseMessage response, LoadRequest request, long start, CancellationToken cancellationToken)
    {
        var chunkTimes = new List<double>(request.MaxTokens);
        int? promptTokens = null, outputTokens = null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            // Blank lines separate events; lines starting with ':' are comments (keep-alives).
            if (!line.StartsWith("data:", StringComparison.Ordinal))
                continue;
            var data = line.AsSpan(5).Trim();
            if (data.SequenceEqual("[DONE]"))
                return RequestResult.Completed(promptTokens ?? request.PromptLength, outputTokens, chunkTimes, Stopwatch.GetElapsedTime(start).TotalSeconds);

            // Stamped before parsing, so our own JSON work does not count as the server's latency.
            var arrivedS = Stopwatch.GetElapsedTime(start).TotalSeconds;
            using var json = JsonDocument.Parse(data.ToString());
            var root = json.RootElement;
            if (root.TryGetProperty("error", out var error))
                return RequestResult.Failed($"error in stream: {ErrorMessage(error)}");
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array
                && choices.GetArrayLength() > 0 && HasOutput(choices[0]))
                chunkTimes.Add(arrivedS);
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                if (usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out var pt))
                    promptTokens = pt;
                if (usage.TryGetProperty("completion_tokens", out var c) && c.TryGetInt32(out var ct))
                    outputTokens = ct;
            }
        }
        return RequestResult.Failed("the stream ended before data: [DONE]");
    }

    /// <summary>A text chunk (completions), a delta with content (chat), or token ids where a server sends them.</summary>
    private static bool HasOutput(JsonElement choice)
    {
        static bool NonEmpty(JsonElement parent, string name) => parent.TryGetProperty(name, out var value)
            && (value.ValueKind == JsonValueKind.String ? value.GetString() is { Length: > 0 }
                : value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0);
        return NonEmpty(choice, "text") || NonEmpty(choice, "token_ids")
            || (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object
                && (NonEmpty(delta, "content") || NonEmpty(delta, "reasoning_content")));
    }

    private byte[] RequestBody(LoadRequest request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            if (endpoint == LoadgenEndpoint.Chat)
            {
                json.WriteStartArray("messages");
                json.WriteStartObject();
                json.WriteString("role", "user");
                json.WriteString("content", request.PromptText ?? "");
                json.WriteEndObject();
                json.WriteEndArray();
            }
            else
            {
                json.WriteStartArray("prompt");
                foreach (var id in request.PromptTokens ?? [])
                    json.WriteNumberValue(id);
                json.WriteEndArray();
            }
            json.WriteNumber("max_tokens", request.MaxTokens);
            // Every request generates exactly max_tokens, so runs compare however the model would have ended.
            json.WriteBoolean("ignore_eos", true);
            json.WriteNumber("temperature", 0);
            json.WriteBoolean("stream", true);
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The OpenAI error object's message when the body is one, else the body itself, shortened.</summary>
    private static string ErrorMessage(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error))
                return ErrorMessage(error);
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the text itself is the best message there is.
        }
        var trimmed = body.Trim();
        return trimmed.Length <= 200 ? trimmed : trimmed[..200] + "…";
    }

    private static string ErrorMessage(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
            ? m.GetString()!
            : error.ToString();
}
