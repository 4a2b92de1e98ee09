using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ChatBlazor.Inference.Generation;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// An <see cref="IInferenceEngine"/> on the other end of an OpenAI-compatible HTTP API (our own <c>serve</c>, or
/// another server): streams every request and turns the SSE events back into <see cref="GenerationChunk"/>s.
/// Token ids and log-probabilities do not come back (the wire carries text); chunks have empty <c>TokenIds</c>.
/// </summary>
/// <param name="http">Its BaseAddress is the server's root (the part before <c>/v1</c>).</param>
/// <param name="readTimeout">The longest wait for the response headers or the next event (default 60 s): a server
/// that falls silent for longer is taken as gone.</param>
public sealed class RemoteEngine(HttpClient http, IReadOnlyList<ModelInfo> models, TimeSpan? readTimeout = null) : IInferenceEngine
{
    private const string WentAway = "The model server went away mid-reply.";
    private readonly TimeSpan _readTimeout = readTimeout ?? TimeSpan.FromSeconds(60);

    public IReadOnlyList<ModelInfo> Models => models;

    /// <summary>Asks the server which models it serves (<c>GET /v1/models</c>).</summary>
    public static async Task<RemoteEngine> ConnectAsync(HttpClient http, TimeSpan? readTimeout = null, CancellationToken cancellationToken = default)
    {
        ModelList? list;
        try
        {
            list = await http.GetFromJsonAsync<ModelList>("v1/models", OpenAiJson.Options, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new EngineUnavailableException("The model server could not be reached.", e);
        }
        // max_model_len is vLLM's and ours; a server without it gets 0, which a caller must read as "unknown".
        return new RemoteEngine(http, [.. (list?.Data ?? []).Select(m => new ModelInfo(m.Id, m.MaxModelLen ?? 0))], readTimeout);
    }

    /// <summary>
    /// The host's live figures (<c>GET /status</c> of <c>ChatBlazor.Inference serve</c>); throws
    /// <see cref="EngineUnavailableException"/> when it cannot be reached or has no such endpoint (another server).
    /// </summary>
    public async Task<EngineStatusReport> StatusAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await http.GetFromJsonAsync<EngineStatusReport>("status", OpenAiJson.Options, cancellationToken)
                ?? throw new EngineUnavailableException("The model server's status was empty.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new EngineUnavailableException("The model server's status could not be read.", e);
        }
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var chat = request.Messages is not null;
        // One timer for "the server said nothing for too long", re-armed before each wait and disarmed while the
        // caller handles a chunk, so a slow consumer is never mistaken for a silent server.
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        silence.CancelAfter(_readTimeout);
        using var response = await SendAsync(request, chat, silence.Token, cancellationToken);
        var stream = await response.Content.ReadAsStreamAsync(silence.Token);
        await using var events = SseParser.Create(stream).EnumerateAsync(silence.Token).GetAsyncEnumerator(silence.Token);

        GenerationChunk? last = null; // held back until the usage chunk (or [DONE]) arrives
        while (true)
        {
            silence.CancelAfter(_readTimeout);
            var data = await NextAsync(events, cancellationToken);
            silence.CancelAfter(Timeout.InfiniteTimeSpan);
            if (data is null or "[DONE]")
                break;
            var chunk = RemoteChunks.Parse(data, chat);
            if (chunk.Usage is { } usage && last is not null)
                last = last with { Usage = usage };
            else if (chunk.FinishReason is not null)
                last = chunk;
            else if (chunk.Text.Length > 0)
                yield return chunk with { Usage = null }; // some servers count as they go; only the last chunk has usage here
        }
        // A server killed mid-reply may still close the connection cleanly; only a finish reason proves the end.
        yield return last ?? throw new EngineUnavailableException(WentAway);
    }

    private async Task<HttpResponseMessage> SendAsync(CompletionRequest request, bool chat, CancellationToken silence, CancellationToken cancellationToken)
    {
        var body = RemoteRequests.Build(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, chat ? "v1/chat/completions" : "v1/completions")
        {
            Content = JsonContent.Create(body, body.GetType(), options: OpenAiJson.Requests),
        };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, silence);
        }
        catch (Exception e) when (e is HttpRequestException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new EngineUnavailableException("The model server could not be reached.", e);
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
            throw await ErrorAsync(response, request.Model, silence);
    }

    private static async Task<Exception> ErrorAsync(HttpResponseMessage response, string model, CancellationToken cancellationToken)
    {
        var (message, param) = RemoteChunks.Error(await response.Content.ReadAsStringAsync(cancellationToken))
            ?? ($"The model server answered {(int)response.StatusCode} {response.ReasonPhrase}.", null);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => new ModelNotFoundException(model),
            HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests => new EngineOverloadedException(message),
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => new ArgumentException(message, param),
            _ => new EngineUnavailableException(message),
        };
    }

    /// <summary>The next event's data, or null at the end of the stream; transport failures become EngineUnavailableException.</summary>
    private static async Task<string?> NextAsync(IAsyncEnumerator<SseItem<string>> events, CancellationToken cancellationToken)
    {
        try
        {
            return await events.MoveNextAsync() ? events.Current.Data : null;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EngineUnavailableException("The model server stopped responding mid-reply.", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new EngineUnavailableException(WentAway, e);
        }
    }
}
