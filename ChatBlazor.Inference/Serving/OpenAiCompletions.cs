using System.Diagnostics;
using System.Text.Json;
using ChatBlazor.Inference.Generation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c>: read the request, pass the gate (if any), wait
/// for the engine's first chunk (so anything that fails before it is a real HTTP error), then answer as SSE or as one
/// JSON object, and tell the gate how it ended.
/// </summary>
public static class OpenAiCompletions
{
    public static Task ChatAsync(HttpContext http, IInferenceEngine engine, ILoggerFactory loggers, ICompletionGate? gate = null) =>
        CompleteAsync<ChatCompletionRequest>(http, engine, loggers, gate, "chat", r => r.ToCompletionRequest(),
            c => new ChatReply(c.Model, c.Sampling.TopLogprobs is not null));

    public static Task TextAsync(HttpContext http, IInferenceEngine engine, ILoggerFactory loggers, ICompletionGate? gate = null) =>
        CompleteAsync<CompletionsRequest>(http, engine, loggers, gate, "text", r => r.ToCompletionRequest(),
            c => new TextReply(c.Model, c.Sampling.TopLogprobs is not null));

    private static async Task CompleteAsync<T>(
        HttpContext http, IInferenceEngine engine, ILoggerFactory loggers, ICompletionGate? gate, string endpoint,
        Func<T, CompletionRequest> map, Func<CompletionRequest, OpenAiReply> newReply)
        where T : OpenAiSamplingRequest
    {
        var log = loggers.CreateLogger(OpenAiHost.LogCategory);
        var aborted = http.RequestAborted;
        var clock = Stopwatch.StartNew();
        T wire;
        CompletionRequest request;
        try
        {
            wire = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, OpenAiJson.Options, aborted)
                ?? throw new JsonException("The request body is null.");
            request = map(wire);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        catch (JsonException e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.BadJson(e), e);
            return;
        }
        catch (ArgumentException e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.For(e), e);
            return;
        }

        CompletionPass? pass = null;
        if (gate is not null)
        {
            var admission = await gate.AdmitAsync(http, request, aborted);
            if (admission.Refusal is { } refusal)
            {
                http.Response.StatusCode = refusal.Status;
                await http.Response.WriteAsJsonAsync(new ErrorResponse(refusal.Body), OpenAiJson.Options, aborted);
                return;
            }
            pass = admission.Pass;
        }

        var reply = newReply(request);
        var (began, completed) = (false, false);
        try
        {
            IAsyncEnumerator<GenerationChunk> started;
            try
            {
                started = await FirstChunkAsync(engine, request, aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.For(e), e);
                return;
            }

            began = true;
            await using var chunks = started;
            completed = wire.Stream == true
                ? await StreamAsync(http, chunks, reply, wire.IncludeUsage(), log)
                : await RespondAsync(http, chunks, reply, log);
        }
        finally
        {
            if (pass is not null)
                await pass.FinishedAsync(new CompletionOutcome(began, completed, reply.Usage, clock.Elapsed));
        }
        if (completed)
            log.LogInformation("{Endpoint} completion for {Model}: stream={Stream} finish={Finish} prompt_tokens={PromptTokens} completion_tokens={CompletionTokens} in {ElapsedMs} ms",
                endpoint, request.Model, wire.Stream == true, reply.Finish, reply.Usage?.PromptTokens, reply.Usage?.CompletionTokens, clock.ElapsedMilliseconds);
    }

    /// <summary>The engine's stream, positioned on its first chunk: whatever fails up to here is still an HTTP error.</summary>
    private static async Task<IAsyncEnumerator<GenerationChunk>> FirstChunkAsync(IInferenceEngine engine, CompletionRequest request, CancellationToken aborted)
    {
        var chunks = engine.GenerateAsync(request, aborted).GetAsyncEnumerator(aborted);
        try
        {
            return await chunks.MoveNextAsync()
                ? chunks
                : throw new InvalidOperationException("The engine ended the stream without a chunk.");
        }
        catch
        {
            await chunks.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> RespondAsync(HttpContext http, IAsyncEnumerator<GenerationChunk> chunks, OpenAiReply reply, ILogger log)
    {
        try
        {
            do
                reply.Add(chunks.Current);
            while (await chunks.MoveNextAsync());
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.For(e), e);
            return false;
        }
        if (http.RequestAborted.IsCancellationRequested)
            return false; // nobody is left to read it
        var body = reply.Complete();
        await http.Response.WriteAsJsonAsync(body, body.GetType(), OpenAiJson.Options, http.RequestAborted);
        return true;
    }

    /// <summary>Sends each chunk as it comes; returns false where the stream was cut short.</summary>
    private static async Task<bool> StreamAsync(HttpContext http, IAsyncEnumerator<GenerationChunk> chunks, OpenAiReply reply, bool includeUsage, ILogger log)
    {
        var aborted = http.RequestAborted;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            foreach (var payload in reply.Start())
                await SendAsync(http, payload);
            do
            {
                if (chunks.Current.FinishReason == FinishReason.Cancelled)
                    return false; // OpenAI has no finish reason for it: the stream just ends, without [DONE]
                foreach (var payload in reply.Add(chunks.Current))
                    await SendAsync(http, payload);
            }
            while (reply.Finish is null && await chunks.MoveNextAsync());
            if (includeUsage && reply.Usage is { } usage)
                await SendAsync(http, reply.UsageChunk(usage));
            await SendDoneAsync(http);
            return true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            // The status line has gone out: the failure can only travel as an event the client's parser will see.
            var (_, error) = OpenAiErrors.For(e);
            OpenAiErrors.Log(log, 500, error, e);
            await SendAsync(http, new ErrorResponse(error));
            await SendDoneAsync(http);
            return false;
        }
    }

    private static async Task SendAsync(HttpContext http, object payload)
    {
        byte[] frame = [.. "data: "u8, .. JsonSerializer.SerializeToUtf8Bytes(payload, payload.GetType(), OpenAiJson.Options), .. "\n\n"u8];
        await http.Response.Body.WriteAsync(frame, http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    private static async Task SendDoneAsync(HttpContext http)
    {
        await http.Response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }
}
