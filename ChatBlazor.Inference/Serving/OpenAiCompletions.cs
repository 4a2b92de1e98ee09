using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c> on the standalone host: read the request, run it
/// on the engine, answer as SSE or as one JSON object. Its only admission is the engine's own bounded queue. The web
/// app serves the same endpoints through its completion pipeline with the same two pieces:
/// <see cref="ReadAsync{T}"/> and <see cref="OpenAiResponse"/>.
/// </summary>
public static class OpenAiCompletions
{
    public static Task ChatAsync(HttpContext http, IInferenceEngine engine, ILoggerFactory loggers) =>
        CompleteAsync<ChatCompletionRequest>(http, engine, loggers.CreateLogger(OpenAiHost.LogCategory));

    public static Task TextAsync(HttpContext http, IInferenceEngine engine, ILoggerFactory loggers) =>
        CompleteAsync<CompletionsRequest>(http, engine, loggers.CreateLogger(OpenAiHost.LogCategory));

    private static async Task CompleteAsync<T>(HttpContext http, IInferenceEngine engine, ILogger log) where T : OpenAiSamplingRequest
    {
        var clock = Stopwatch.StartNew();
        if (await ReadAsync<T>(http, log) is not var (wire, request))
            return;
        var response = OpenAiResponse.For(http, wire, request, log);
        Exception? error = null;
        try
        {
            await foreach (var chunk in engine.GenerateAsync(request, http.RequestAborted))
                await response.WriteAsync(chunk);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            error = e;
        }
        catch (Exception) // the client went away: nobody is left to answer
        {
            return;
        }
        if (await response.EndAsync(error))
            log.LogInformation("Completion for {Model}: stream={Stream} finish={Finish} prompt_tokens={PromptTokens} completion_tokens={CompletionTokens} in {ElapsedMs} ms",
                request.Model, wire.Stream == true, response.Finish, response.Usage?.PromptTokens, response.Usage?.CompletionTokens, clock.ElapsedMilliseconds);
    }

    /// <summary>
    /// The request body as the wire type and as a <see cref="CompletionRequest"/>; null when it was malformed or
    /// larger than <paramref name="maxBytes"/> (a 400 naming the field, or a 413, has been sent) or the client left.
    /// </summary>
    public static async Task<(T Wire, CompletionRequest Request)?> ReadAsync<T>(HttpContext http, ILogger log, long? maxBytes = null) where T : OpenAiSamplingRequest
    {
        if (maxBytes is { } max)
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = max;
            if (http.Request.ContentLength > max)
            {
                await TooLargeAsync(http, log, max);
                return null;
            }
        }
        try
        {
            var wire = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, OpenAiJson.Options, http.RequestAborted)
                ?? throw new JsonException("The request body is null.");
            var request = wire switch
            {
                ChatCompletionRequest chat => chat.ToCompletionRequest(),
                CompletionsRequest text => text.ToCompletionRequest(),
                _ => throw new NotSupportedException(typeof(T).Name),
            };
            return (wire, request);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
        catch (JsonException e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.BadJson(e), e);
            return null;
        }
        catch (ArgumentException e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.For(e), e);
            return null;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && maxBytes is not null)
        {
            await TooLargeAsync(http, log, maxBytes.Value); // a body without Content-Length that grew past the limit
            return null;
        }
    }

    private static Task TooLargeAsync(HttpContext http, ILogger log, long maxBytes) =>
        OpenAiErrors.WriteAsync(http, log, (StatusCodes.Status413PayloadTooLarge, new ErrorBody(
            $"The request body is larger than this server accepts ({maxBytes:N0} bytes). Shorten the prompt.", "invalid_request_error", null, "request_too_large")), null);
}

/// <summary>
/// One completion's answer, written as its chunks arrive: nothing goes out before the first chunk, so whatever fails
/// before it is still a real HTTP error; after it, a stream can only end with an error event.
/// </summary>
public sealed class OpenAiResponse
{
    private readonly HttpContext _http;
    private readonly OpenAiReply _reply;
    private readonly bool _stream, _includeUsage;
    private readonly ILogger _log;

    private OpenAiResponse(HttpContext http, OpenAiReply reply, bool stream, bool includeUsage, ILogger log) =>
        (_http, _reply, _stream, _includeUsage, _log) = (http, reply, stream, includeUsage, log);

    public static OpenAiResponse For(HttpContext http, OpenAiSamplingRequest wire, CompletionRequest request, ILogger log)
    {
        var logprobs = request.Sampling.TopLogprobs is not null;
        OpenAiReply reply = wire is ChatCompletionRequest ? new ChatReply(request.Model, logprobs) : new TextReply(request.Model, logprobs);
        return new OpenAiResponse(http, reply, wire.Stream == true, wire.IncludeUsage(), log);
    }

    /// <summary>The first chunk has arrived: the status line is (or will be) 200.</summary>
    public bool Started { get; private set; }

    public FinishReason? Finish => _reply.Finish;
    public Usage? Usage => _reply.Usage;

    public async Task WriteAsync(GenerationChunk chunk)
    {
        if (chunk.Model is { } model)
            _reply.Model = model;
        if (!Started)
        {
            Started = true;
            if (_stream)
            {
                _http.Response.ContentType = "text/event-stream";
                _http.Response.Headers.CacheControl = "no-cache";
                _http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                foreach (var payload in _reply.Start())
                    await SendAsync(payload);
            }
        }
        var events = _reply.Add(chunk);
        if (_stream)
            foreach (var payload in events)
                await SendAsync(payload);
    }

    /// <summary>
    /// Ends the answer: the whole reply (JSON), the usage chunk and [DONE] (SSE), or the error — a status and an
    /// error object before the first chunk, an error event after it. A cancelled completion has no OpenAI finish
    /// reason: its stream just ends. True when the client got the whole answer.
    /// </summary>
    public async Task<bool> EndAsync(Exception? error)
    {
        var aborted = _http.RequestAborted;
        if (aborted.IsCancellationRequested)
            return false;
        try
        {
            if (error is not null && !Started)
            {
                await OpenAiErrors.WriteAsync(_http, _log, OpenAiErrors.For(error), error);
                return false;
            }
            if (error is not null)
            {
                var (status, body) = OpenAiErrors.For(error);
                OpenAiErrors.Log(_log, status, body, error);
                if (!_stream)
                    return false; // a JSON answer had not gone out: the connection just closes
                await SendAsync(new ErrorResponse(body));
                await SendDoneAsync();
                return false;
            }
            if (_reply.Finish is null or FinishReason.Cancelled)
                return false;
            if (!_stream)
            {
                var body = _reply.Complete();
                await _http.Response.WriteAsJsonAsync(body, body.GetType(), OpenAiJson.Options, aborted);
                return true;
            }
            if (_includeUsage && _reply.Usage is { } usage)
                await SendAsync(_reply.UsageChunk(usage));
            await SendDoneAsync();
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task SendAsync(object payload)
    {
        byte[] frame = [.. "data: "u8, .. JsonSerializer.SerializeToUtf8Bytes(payload, payload.GetType(), OpenAiJson.Options), .. "\n\n"u8];
        await _http.Response.Body.WriteAsync(frame, _http.RequestAborted);
        await _http.Response.Body.FlushAsync(_http.RequestAborted);
    }

    private async Task SendDoneAsync()
    {
        await _http.Response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), _http.RequestAborted);
        await _http.Response.Body.FlushAsync(_http.RequestAborted);
    }
}
