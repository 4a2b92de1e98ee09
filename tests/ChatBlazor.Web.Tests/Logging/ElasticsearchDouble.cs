using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Web.Tests.Logging;

/// <summary>
/// Test double: the part of Elasticsearch a log shipper uses, <c>POST /{index}/_bulk</c> with NDJSON action and
/// document lines, answered as Elasticsearch answers (<c>{"errors":false,"items":[{"create":{"status":201}}]}</c>).
/// <c>GET /_cluster/health</c> answers <see cref="ClusterStatus"/>. It can answer 503 (<see cref="Unavailable"/>), stop listening (connections refused) and start again on the same port.
/// </summary>
public sealed class ElasticsearchDouble : IAsyncDisposable
{
    private WebApplication? _app;
    private int _port;

    public ConcurrentQueue<(string Index, JsonElement Document)> Documents { get; } = new();

    /// <summary>Bulk requests answered 503 so far.</summary>
    public int Refused => Volatile.Read(ref _refused);
    private int _refused;

    /// <summary>While true, every bulk request is answered 503 Service Unavailable.</summary>
    public bool Unavailable { get; set; }

    public string Url => $"http://127.0.0.1:{_port}";

    /// <summary>What <c>GET /_cluster/health</c> reports while available: green, yellow or red.</summary>
    public string ClusterStatus { get; set; } = "green";

    public static async Task<ElasticsearchDouble> StartAsync()
    {
        var double_ = new ElasticsearchDouble();
        await double_.ListenAsync();
        return double_;
    }

    /// <summary>Listens (again) on the port it had, or a free one the first time.</summary>
    public async Task ListenAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/{index}/_bulk", BulkAsync);
        app.MapGet("/_cluster/health", () => Unavailable
            ? Results.Json(new { error = new { type = "master_not_discovered_exception" }, status = 503 }, statusCode: 503)
            : Results.Json(new { cluster_name = "double", status = ClusterStatus }));
        await app.StartAsync();
        _port = new Uri(app.Urls.Single()).Port;
        _app = app;
    }

    /// <summary>Stops listening: the shipper's connections are refused until <see cref="ListenAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
            await app.DisposeAsync();
        _app = null;
    }

    private async Task<IResult> BulkAsync(string index, HttpContext http)
    {
        http.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
        if (Unavailable)
        {
            Interlocked.Increment(ref _refused);
            return Results.Json(new { error = new { type = "unavailable_shards_exception" }, status = 503 }, statusCode: 503);
        }
        if (http.Request.ContentType != "application/x-ndjson; charset=utf-8" && http.Request.ContentType != "application/x-ndjson")
            return Results.Json(new { error = new { type = "illegal_argument_exception", reason = $"Content-Type {http.Request.ContentType}" }, status = 400 }, statusCode: 400);
        var lines = (await new StreamReader(http.Request.Body).ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length % 2 != 0)
            return Results.Json(new { error = new { type = "illegal_argument_exception", reason = "action without document" }, status = 400 }, statusCode: 400);
        var items = new List<object>();
        for (var i = 0; i < lines.Length; i += 2)
        {
            using var action = JsonDocument.Parse(lines[i]);
            if (!action.RootElement.TryGetProperty("create", out _))
                return Results.Json(new { error = new { type = "illegal_argument_exception", reason = "data streams take create only" }, status = 400 }, statusCode: 400);
            Documents.Enqueue((index, JsonDocument.Parse(lines[i + 1]).RootElement.Clone()));
            items.Add(new { create = new { _index = index, _id = Guid.NewGuid().ToString("N"), status = 201, result = "created" } });
        }
        return Results.Json(new { took = 1, errors = false, items });
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
