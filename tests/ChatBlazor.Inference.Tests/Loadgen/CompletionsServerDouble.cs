using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Inference.Tests.Loadgen;

/// <summary>What the double answers: each response streams <see cref="Chunks"/> chunks, or fails as scripted.</summary>
internal sealed record ServerScript
{
    public int Chunks { get; init; } = 4;
    public int TokensPerChunk { get; init; } = 1;
    public bool SendUsage { get; init; } = true;
    /// <summary>Set to answer every request with this HTTP status and an OpenAI error object.</summary>
    public (int Status, string Message)? Refuse { get; init; }
    /// <summary>Set to send an error object in the stream after the first chunk, as a server failing mid-stream does.</summary>
    public string? ErrorMidStream { get; init; }
    /// <summary>
    /// Set to hold every stream until this many requests are in flight at once (or all <see cref="ExpectedRequests"/>
    /// have arrived), so a concurrency cap is certainly reached, not just never exceeded.
    /// </summary>
    public int? HoldUntilInFlight { get; init; }
    public int ExpectedRequests { get; init; }
}

/// <summary>
/// Test double for an OpenAI-compatible server: Kestrel on 127.0.0.1 at a free port, streaming scripted
/// <c>text_completion</c> (or <c>chat.completion.chunk</c>) events, then usage, then <c>[DONE]</c>. It records the
/// request bodies and the most requests it ever had in flight.
/// </summary>
internal sealed class CompletionsServerDouble : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerScript _script;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight, _arrived, _maxInFlight;

    private CompletionsServerDouble(WebApplication app, ServerScript script) => (_app, _script) = (app, script);

    public Uri BaseUrl { get; private set; } = null!;
    public ConcurrentQueue<JsonElement> RequestBodies { get; } = new();

    public int MaxInFlight
    {
        get
        {
            lock (_lock)
                return _maxInFlight;
        }
    }

    public static async Task<CompletionsServerDouble> StartAsync(ServerScript script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new CompletionsServerDouble(app, script);
        app.MapGet("/v1/models", () => Results.Json(new
        {
            @object = "list",
            data = new[] { new { id = "double", @object = "model", max_model_len = 2048, vocab_size = 500 } },
        }));
        app.MapPost("/v1/completions", context => server.StreamAsync(context, chat: false));
        app.MapPost("/v1/chat/completions", context => server.StreamAsync(context, chat: true));
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Urls.Single() + "/");
        return server;
    }

    private async Task StreamAsync(HttpContext context, bool chat)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        RequestBodies.Enqueue(body.RootElement.Clone());
        var promptTokens = chat ? 0 : body.RootElement.GetProperty("prompt").GetArrayLength();
        lock (_lock)
        {
            _inFlight++;
            _arrived++;
            _maxInFlight = Math.Max(_maxInFlight, _inFlight);
            if (_script.HoldUntilInFlight is not { } hold || _inFlight >= hold || _arrived >= _script.ExpectedRequests)
                _released.TrySetResult();
        }

        if (_script.Refuse is { } refusal)
        {
            Leave();
            context.Response.StatusCode = refusal.Status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = refusal.Message, type = "server_error", code = refusal.Status } });
            return;
        }
        await _released.Task;

        context.Response.ContentType = "text/event-stream";
        var kind = chat ? "chat.completion.chunk" : "text_completion";
        async Task Send(object data) => await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(data)}\n\n");
        for (var i = 0; i < _script.Chunks; i++)
        {
            var text = string.Concat(Enumerable.Repeat("ab", _script.TokensPerChunk));
            var finish = i == _script.Chunks - 1 ? "length" : null;
            await Send(chat
                ? new { id = "c", @object = kind, model = "double", choices = new object[] { new { index = 0, delta = new { content = text }, finish_reason = finish } } }
                : new { id = "c", @object = kind, model = "double", choices = new object[] { new { index = 0, text, finish_reason = finish } } });
            await context.Response.Body.FlushAsync();
            if (_script.ErrorMidStream is { } error)
            {
                Leave();
                await Send(new { error = new { message = error, type = "server_error", code = 500 } });
                return;
            }
        }
        if (_script.SendUsage)
        {
            var completion = _script.Chunks * _script.TokensPerChunk;
            await Send(new { id = "c", @object = kind, model = "double", choices = Array.Empty<object>(),
                usage = new { prompt_tokens = promptTokens, completion_tokens = completion, total_tokens = promptTokens + completion } });
        }
        // Out of flight before [DONE]: once the client has read it, it may send its next request at once, and that
        // must not find this one still counted.
        Leave();
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private void Leave()
    {
        lock (_lock)
            _inFlight--;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
