using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using ChatBlazor.Inference.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.E2E.Fleet;

/// <summary>
/// Test double: an OpenAI-compatible model host (what <c>ChatBlazor.Inference serve</c> is) that every web instance
/// of a test reaches over HTTP, as a fleet reaches its GPU host. Replies are written by the test token by token
/// (<see cref="Release"/>), or at once when <see cref="AutoReply"/> is on; title requests are answered at once.
/// </summary>
public sealed class ScriptedModelHostDouble : IAsyncDisposable
{
    public const string Model = "scripted";
    public const string Title = "Scripted title";
    public const string AutoText = "Hello from the scripted host.";

    private readonly WebApplication _app;
    private readonly Channel<string> _tokens = Channel.CreateUnbounded<string>();
    private readonly Channel<ScriptedRequest> _asked = Channel.CreateUnbounded<ScriptedRequest>();

    /// <summary>A reply request as the host received it: the last message, and the start of a reply it must continue.</summary>
    public sealed record ScriptedRequest(string LastMessage, string? ContinueFrom);

    private ScriptedModelHostDouble(WebApplication app) => _app = app;

    public string Url => _app.Urls.Single();

    /// <summary>Answer every reply at once with <see cref="AutoText"/>, word by word.</summary>
    public bool AutoReply { get; set; }

    /// <summary>
    /// With <see cref="AutoReply"/>: replies of this many numbered words ("w0 w1 …") instead of <see cref="AutoText"/>,
    /// one every <see cref="Pace"/>, as a model streams them (the load benchmark); 0: <see cref="AutoText"/> at once.
    /// </summary>
    public int PacedWords { get; set; }

    public TimeSpan Pace { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The text of an automatic reply.</summary>
    public string AutoReplyText => PacedWords > 0 ? string.Concat(Enumerable.Range(0, PacedWords).Select(k => $"w{k} ")) : AutoText;

    /// <summary>Each reply request that waits for <see cref="Release"/>, as it arrives: a test waits until the engine has been asked.</summary>
    public ChannelReader<ScriptedRequest> Asked => _asked.Reader;

    /// <summary>The next tokens of the reply being written; "&lt;end&gt;" ends it.</summary>
    public void Release(params string[] tokens)
    {
        foreach (var token in tokens)
            _tokens.Writer.TryWrite(token);
    }

    public static async Task<ScriptedModelHostDouble> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var host = new ScriptedModelHostDouble(app);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = Model, @object = "model", max_model_len = 4096 } } }));
        app.MapPost("/v1/chat/completions", host.CompleteAsync);
        await app.StartAsync();
        return host;
    }

    private async Task CompleteAsync(HttpContext http)
    {
        var body = JsonNode.Parse(await new StreamReader(http.Request.Body).ReadToEndAsync())!;
        var messages = body["messages"]!.AsArray();
        var continuing = body["continue_final_message"]?.GetValue<bool>() == true;
        var last = messages[^1]!["content"]!.GetValue<string>();
        http.Response.ContentType = "text/event-stream";
        var aborted = http.RequestAborted;
        var completion = 0;

        async Task SendAsync(object payload)
        {
            await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(payload)}\n\n", aborted);
            await http.Response.Body.FlushAsync(aborted);
        }
        async Task TokenAsync(string text)
        {
            completion++;
            await SendAsync(new { id = "x", @object = "chat.completion.chunk", created = 0, model = Model, choices = new[] { new { index = 0, delta = new { content = text }, finish_reason = (string?)null } } });
        }
        async Task EndAsync()
        {
            await SendAsync(new { id = "x", @object = "chat.completion.chunk", created = 0, model = Model, choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } } });
            await SendAsync(new { id = "x", @object = "chat.completion.chunk", created = 0, model = Model, choices = Array.Empty<object>(), usage = new { prompt_tokens = 10, completion_tokens = completion, total_tokens = 10 + completion } });
            await http.Response.WriteAsync("data: [DONE]\n\n", aborted);
        }

        if (!continuing && messages.Count == 1 && last.StartsWith(TitlePrompt.Instruction, StringComparison.Ordinal))
        {
            await TokenAsync(Title);
            await EndAsync();
            return;
        }
        var request = new ScriptedRequest(continuing ? messages[^2]!["content"]!.GetValue<string>() : last, continuing ? last : null);
        if (AutoReply)
        {
            // A worker that took the reply over (its first claim lapsed under load) asks to go on from the saved
            // text, as a real model would: the rest follows, and a prefix the text does not have shows up in the reply.
            var text = AutoReplyText;
            var rest = request.ContinueFrom is { } saved && text.StartsWith(saved, StringComparison.Ordinal) ? text[saved.Length..] : text;
            using var pace = PacedWords > 0 ? new PeriodicTimer(Pace) : null;
            foreach (var word in Regex.Split(rest, "(?= )").Where(w => w.Length > 0))
            {
                if (pace is not null)
                    await pace.WaitForNextTickAsync(aborted);
                await TokenAsync(word);
            }
            await EndAsync();
            return;
        }
        _asked.Writer.TryWrite(request);
        try
        {
            while (await _tokens.Reader.ReadAsync(aborted) is var token && token != "<end>")
                await TokenAsync(token);
            await EndAsync();
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // the instance that asked went away (killed, or the reply was stopped): its tokens stay for the next request
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
