using System.Net.ServerSentEvents;
using System.Text.Json;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Builder;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The real host on Kestrel, on a free port of 127.0.0.1, in front of an engine double.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, Uri address)
    {
        _app = app;
        Client = new HttpClient { BaseAddress = address };
    }

    public HttpClient Client { get; }

    public static async Task<TestHost> StartAsync(IInferenceEngine engine, EngineMetrics? metrics = null)
    {
        var app = OpenAiHost.Build(engine, metrics ?? new EngineMetrics(), "http://127.0.0.1:0", logging => { });
        await app.StartAsync();
        return new TestHost(app, new Uri(app.Urls.Single()));
    }

    public async Task<HttpResponseMessage> PostAsync(string path, string json) =>
        await Client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Every SSE event's data, read with the standard parser.</summary>
    public static async Task<List<string>> EventsAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
            events.Add(item.Data);
        return events;
    }

    public static JsonElement Json(string data) => JsonDocument.Parse(data).RootElement;

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => Json(await response.Content.ReadAsStringAsync());

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
