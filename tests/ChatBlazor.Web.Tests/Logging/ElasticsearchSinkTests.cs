using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using ChatBlazor.Testing;
using ChatBlazor.Web.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Web.Tests.Logging;

/// <summary>
/// The app's logs shipped to an Elasticsearch double over <c>_bulk</c>: ECS fields, trace ids, redaction, and what
/// an outage does (logging goes on, drops are counted, shipping recovers).
/// </summary>
public class ElasticsearchSinkTests(ElasticsearchSinkTests.Factory app) : IClassFixture<ElasticsearchSinkTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public ElasticsearchDouble Elasticsearch { get; } = ElasticsearchDouble.StartAsync().GetAwaiter().GetResult();

        public Factory()
        {
            Set("Elasticsearch:Url", Elasticsearch.Url);
            Set("Elasticsearch:Index", "logs-chatblazor-test");
            Set("Elasticsearch:QueueLimit", "50");
            Set("Elasticsearch:BatchSize", "10");
            Set("Elasticsearch:MaxRetryDelay", "00:00:00.200");
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Elasticsearch.DisposeAsync();
        }
    }

    private const string Email = "jane.doe@example.com";
    private const string Card = "4111 1111 1111 1111"; // Luhn-valid
    private const string Secret = "sk-proj-abc123DEF456ghi789JKL012mno345";

    private ILogger Log => app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ChatBlazor.Web.Tests.Logging");

    /// <summary>The document whose message contains <paramref name="marker"/>, once it has arrived (20 s at most: an upper bound, not a timing).</summary>
    private async Task<JsonElement> DocumentAsync(string marker) => (await IndexedAsync(marker)).Document;

    private async Task<(string Index, JsonElement Document)> IndexedAsync(string marker)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50)) // polling a condition
            foreach (var (index, doc) in app.Elasticsearch.Documents)
                if (doc.TryGetProperty("message", out var m) && m.GetString()!.Contains(marker, StringComparison.Ordinal))
                    return (index, doc);
        throw new TimeoutException($"No document with '{marker}' reached the Elasticsearch double.");
    }

    /// <summary>An ECS field by its dotted name, whether the document writes it dotted (log.level) or nested (service: {name}).</summary>
    private static JsonElement? Field(JsonElement doc, string name)
    {
        if (doc.TryGetProperty(name, out var flat))
            return flat;
        var dot = name.IndexOf('.');
        return dot > 0 && doc.TryGetProperty(name[..dot], out var parent) && parent.ValueKind == JsonValueKind.Object ? Field(parent, name[(dot + 1)..]) : null;
    }

    private static string? Text(JsonElement doc, string name) => Field(doc, name)?.ToString();

    [Fact]
    public async Task ALogLineArrivesAsAnEcsDocumentWithItsTraceAndWithoutPersonalData()
    {
        var marker = Guid.NewGuid().ToString("N");
        var userId = Guid.NewGuid().ToString();
        using var activity = new Activity("log-test").SetIdFormat(ActivityIdFormat.W3C).Start();

        Log.LogWarning(new InvalidOperationException($"Could not reach {Email}"),
            "Order {Marker} for {Email} paid with " + Card + " using {Key} by {UserId}", marker, Email, Secret, userId);
        var (index, doc) = await IndexedAsync(marker);

        Assert.Equal("logs-chatblazor-test", index);
        Assert.True(DateTimeOffset.TryParse(Text(doc, "@timestamp"), out _), Text(doc, "@timestamp"));
        Assert.Equal("Warning", Text(doc, "log.level"));
        Assert.StartsWith("8.", Text(doc, "ecs.version"));
        Assert.Equal("chatblazor-web", Text(doc, "service.name"));
        Assert.Equal(activity.TraceId.ToHexString(), Text(doc, "trace.id"));
        Assert.Equal(activity.SpanId.ToHexString(), Text(doc, "span.id"));
        Assert.Equal($"Order {marker} for [EMAIL] paid with [CARD] using [SECRET] by {KeyedHash(userId)}",
            Text(doc, "message")!.Replace("\"", ""));
        Assert.Equal("System.InvalidOperationException", Text(doc, "error.type"));
        Assert.Equal("Could not reach [EMAIL]", Text(doc, "error.message"));
        Assert.StartsWith("System.InvalidOperationException: Could not reach [EMAIL]", Text(doc, "error.stack_trace"));
        Assert.Equal(KeyedHash(userId), Text(doc, "user.id"));
        var raw = doc.GetRawText();
        foreach (var personal in new[] { Email, Card, Secret, userId })
            Assert.DoesNotContain(personal, raw);
    }

    [Fact]
    public async Task RequestLogLinesCarryTheRequestsTraceId()
    {
        var client = app.CreateClient();
        var marker = Guid.NewGuid().ToString("N");

        var response = await client.GetAsync($"/health/live?m={marker}");
        var path = $"/health/live";

        Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound);
        // The request line names the path, not the query: wait for a request line after this request.
        JsonElement? line = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); line is null && DateTime.UtcNow < deadline; await Task.Delay(50)) // polling a condition
            line = app.Elasticsearch.Documents.Select(d => (JsonElement?)d.Document)
                .FirstOrDefault(d => Text(d!.Value, "message") is { } m && m.StartsWith("HTTP \"GET\" \"" + path + "\"", StringComparison.Ordinal));
        Assert.NotNull(line);
        Assert.Matches("^[0-9a-f]{32}$", Text(line.Value, "trace.id"));
        Assert.Matches("^[0-9a-f]{16}$", Text(line.Value, "span.id"));
    }

    [Fact]
    public async Task AnOutageNeverStopsTheAppDropsAreCountedAndShippingRecovers()
    {
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        long queueFull = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ElasticsearchSink.MeterName && instrument.Name == ElasticsearchSink.DroppedCounterName && instrument.Meter.Scope == meters)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "reason", Value: "queue_full" })
                    Interlocked.Add(ref queueFull, value);
        });
        listener.Start();
        var client = app.CreateClient();

        // 503: the shipper holds one batch (10) and queues 50; the rest is dropped, and counted (430 at least: a batch
        // already on its way when the 503s began may have made room for 10 more).
        app.Elasticsearch.Unavailable = true;
        var refusedBefore = app.Elasticsearch.Refused;
        for (var i = 0; i < 500; i++)
            Log.LogInformation("Outage line {Number}", i);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.True(Interlocked.Read(ref queueFull) >= 430, $"dropped {Interlocked.Read(ref queueFull)}");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); app.Elasticsearch.Refused == refusedBefore && DateTime.UtcNow < deadline; await Task.Delay(50)) // polling a condition
        {
        }
        Assert.True(app.Elasticsearch.Refused > refusedBefore);

        // Connections refused: still nothing blocks, and more drops are counted.
        await app.Elasticsearch.StopAsync();
        var droppedBefore = Interlocked.Read(ref queueFull);
        for (var i = 0; i < 200; i++)
            Log.LogInformation("Refused line {Number}", i);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.True(Interlocked.Read(ref queueFull) >= droppedBefore + 200 - 50, $"dropped {Interlocked.Read(ref queueFull)} after {droppedBefore}");

        // Back: what was held arrives (the batch held since the 503s, then the queue), and new lines follow.
        app.Elasticsearch.Unavailable = false;
        await app.Elasticsearch.ListenAsync();
        await DocumentAsync("Outage line");
        // A line logged while the queue is still full is dropped (that is the point): log it again until one is in.
        var marker = Guid.NewGuid().ToString("N");
        bool Arrived() => app.Elasticsearch.Documents.Any(d => Text(d.Document, "message")?.Contains(marker, StringComparison.Ordinal) == true);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !Arrived() && DateTime.UtcNow < deadline; await Task.Delay(100)) // polling a condition
            Log.LogInformation("After the outage {Marker}", marker);
        Assert.True(Arrived());
    }

    /// <summary>HMAC-SHA256 of the id under the tests' key, first 32 hex characters: computed here, not by the app.</summary>
    internal static string KeyedHash(string userId) => Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(AppFactory.UserIdKey), System.Text.Encoding.UTF8.GetBytes(userId)))[..32];
}
