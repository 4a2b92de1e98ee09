using System.Net.ServerSentEvents;
using System.Text.Json;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Builder;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The real host on Kestrel, on a free port of 127.0.0.1, in front of an engine double.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, Uri address, Uri? opsAddress)
    {
        _app = app;
        Client = new HttpClient { BaseAddress = address };
        OpsAddress = opsAddress;
    }

    public HttpClient Client { get; }

    /// <summary>The main address (http or https).</summary>
    public Uri Address => Client.BaseAddress!;

    /// <summary>The ops address, when <see cref="HostAccess.OpsUrls"/> asked for one.</summary>
    public Uri? OpsAddress { get; }

    /// <param name="access">Its addresses must be on port 0 of 127.0.0.1: one main address and at most one ops address.</param>
    public static async Task<TestHost> StartAsync(IInferenceEngine engine, EngineMetrics? metrics = null, HostAccess? access = null, string urls = "http://127.0.0.1:0")
    {
        var app = OpenAiHost.Build(engine, metrics ?? new EngineMetrics(), urls, logging => { }, access: access);
        await app.StartAsync();
        // The host lists its main addresses first, then the ops ones.
        var addresses = app.Urls.Select(u => new Uri(u)).ToArray();
        return new TestHost(app, addresses[0], access?.OpsUrls is null ? null : addresses[1]);
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
