using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>
/// Test double: an OpenAI-compatible model host over real HTTP serving one model. It lists its model (so it reads as
/// healthy) and either answers every chat completion with <see cref="AnswerOf"/> word by word, or, when
/// <see cref="Fails"/>, refuses every one with a 503 before any token: a host that is up but cannot serve.
/// </summary>
public sealed class ModelHostDouble : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _completions;

    private ModelHostDouble(WebApplication app, string model, bool fails) => (_app, Model, Fails) = (app, model, fails);

    public string Model { get; }
    public bool Fails { get; }
    public string Url => _app.Urls.Single();

    /// <summary>Chat completions asked of this host so far.</summary>
    public int Completions => Volatile.Read(ref _completions);

    public static string AnswerOf(string model) => $"Answer from {model}.";

    public static async Task<ModelHostDouble> StartAsync(string model, bool fails)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var host = new ModelHostDouble(app, model, fails);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = model, @object = "model", max_model_len = 4096 } } }));
        app.MapPost("/v1/chat/completions", host.CompleteAsync);
        await app.StartAsync();
        return host;
    }

    private async Task CompleteAsync(HttpContext http)
    {
        Interlocked.Increment(ref _completions);
        if (Fails)
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "GPU out of memory", type = "server_error" } });
            return;
        }
        http.Response.ContentType = "text/event-stream";
        var words = AnswerOf(Model).Split(' ');
        async Task SendAsync(object payload)
        {
            await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(payload)}\n\n");
            await http.Response.Body.FlushAsync();
        }
        for (var i = 0; i < words.Length; i++)
            await SendAsync(new { id = "x", @object = "chat.completion.chunk", created = 0, model = Model,
                choices = new[] { new { index = 0, delta = new { content = i == 0 ? words[i] : " " + words[i] }, finish_reason = (string?)null } } });
        await SendAsync(new { id = "x", @object = "chat.completion.chunk", created = 0, model = Model, choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } } });
        await SendAsync(new { id = "x", @object = "chat.completion.chunk", created = 0, model = Model, choices = Array.Empty<object>(),
            usage = new { prompt_tokens = 10, completion_tokens = words.Length, total_tokens = 10 + words.Length } });
        await http.Response.WriteAsync("data: [DONE]\n\n");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
