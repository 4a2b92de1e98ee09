using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Elastic.CommonSchema;
using Elastic.CommonSchema.Serilog;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;

namespace ChatBlazor.Web.Logging;

/// <summary>
/// Ships log events to Elasticsearch's <c>_bulk</c> API as ECS documents (Elastic's <see cref="EcsTextFormatter"/>),
/// from a bounded queue on a background loop: logging never waits on Elasticsearch, and an outage costs at most
/// <see cref="ElasticsearchOptions.QueueLimit"/> events of memory. What cannot be delivered is counted on
/// <c>chatblazor.logs.dropped</c> (meter <c>ChatBlazor.Logging</c>) with its reason.
/// </summary>
/// <remarks>
/// Our own sink rather than <c>Serilog.Sinks.Elasticsearch</c> 9.0.0 or <c>Elastic.Serilog.Sinks</c> 8.18.2 (both
/// restore here). The first is deprecated by its authors in favour of the second, writes its own non-ECS shape by
/// default and probes the cluster at start. The second is Elastic's, but brings its transport and ingest channel
/// for what is one POST, and reports losses through several callbacks (buffer full, retries exhausted, rejected
/// items) that would have to be added up. Serilog's own batching (<c>IBatchedLogEventSink</c>) drops a full queue
/// without telling. Here every path that loses an event counts it, and only <c>POST /{index}/_bulk</c> is called.
/// Elastic's ECS formatter is used as is, so the documents are the ones Elastic's sink would write.
/// </remarks>
public sealed class ElasticsearchSink : ILogEventSink, IDisposable
{
    public const string MeterName = "ChatBlazor.Logging";
    public const string DroppedCounterName = "chatblazor.logs.dropped";

    /// <summary>How long shutdown waits for the queue to reach Elasticsearch before counting the rest as dropped.</summary>
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly ElasticsearchOptions _options;
    private readonly Channel<LogEvent> _queue;
    private readonly HttpClient _http;
    private readonly Uri _bulk;
    private readonly EcsTextFormatter _ecs;
    private readonly Counter<long> _dropped;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _shipping;
    private bool _failing;

    public ElasticsearchSink(ElasticsearchOptions options, IMeterFactory meters, HttpMessageHandler? handler = null)
    {
        _options = options;
        _queue = Channel.CreateBounded<LogEvent>(new BoundedChannelOptions(options.QueueLimit)
        {
            // With Wait, TryWrite answers false on a full queue instead of blocking: that is the drop we count.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromSeconds(30);
        _http.DefaultRequestHeaders.Authorization = AuthorizationFor(options);
        _bulk = new Uri(new Uri(options.Url.TrimEnd('/') + "/"), $"{Uri.EscapeDataString(options.Index)}/_bulk");
        _ecs = new EcsTextFormatter(new EcsTextFormatterConfiguration
        {
            IncludeUser = false, // the OS account the process runs as, not a user of ours
            IncludeActivityData = false, // read on the shipping thread it would be none: the event carries its own
            MapCustom = (doc, e) => MapCustom(doc, e, options.ServiceName),
        });
        _dropped = meters.Create(MeterName).CreateCounter<long>(DroppedCounterName, "{event}",
            "Log events that never reached Elasticsearch, by reason: queue_full, rejected (by Elasticsearch), failed (unreadable answer), shutdown.");
        _shipping = Task.Run(ShipAsync);
    }

    /// <summary>The Authorization header the options ask for: an API key, user and password, or none.</summary>
    public static AuthenticationHeaderValue? AuthorizationFor(ElasticsearchOptions options) =>
        !string.IsNullOrEmpty(options.ApiKey) ? new AuthenticationHeaderValue("ApiKey", options.ApiKey)
        : !string.IsNullOrEmpty(options.UserName) ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.UserName}:{options.Password}")))
        : null;

    public void Emit(LogEvent logEvent)
    {
        if (!_queue.Writer.TryWrite(logEvent))
            Drop(1, "queue_full");
    }

    private static EcsDocument MapCustom(EcsDocument doc, LogEvent e, string serviceName)
    {
        doc.Service = new Service { Name = serviceName, Type = "dotnet" };
        doc.TraceId = e.TraceId?.ToHexString();
        doc.SpanId = e.SpanId?.ToHexString();
        // The formatter describes the exception object it is given; ours stands in for the one thrown.
        if (e.Exception is RedactedException redacted && doc.Error is not null)
            (doc.Error.Type, doc.Error.StackTrace) = (redacted.OriginalType, redacted.ToString());
        return doc;
    }

    private async Task ShipAsync()
    {
        var batch = new List<LogEvent>(_options.BatchSize);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < _options.BatchSize && _queue.Reader.TryRead(out var e))
                batch.Add(e);
            await SendAsync(Ndjson(batch), batch.Count);
            batch.Clear();
        }
    }

    private string Ndjson(List<LogEvent> batch)
    {
        var body = new StringWriter();
        foreach (var e in batch)
        {
            // create: what a data stream accepts, and for a plain index a new document with a generated id.
            body.Write("{\"create\":{}}\n");
            _ecs.Format(e, body);
            body.Write('\n');
        }
        return body.ToString();
    }

    /// <summary>Tries until Elasticsearch answers or shutdown is asked for; meanwhile the queue holds what comes in.</summary>
    private async Task SendAsync(string body, int count)
    {
        var delay = FirstRetryDelay;
        while (true)
        {
            string? failure;
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/x-ndjson");
                using var response = await _http.PostAsync(_bulk, content, _stopping.Token);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    Recovered();
                    CountRejectedItems(await response.Content.ReadAsStringAsync(_stopping.Token), count);
                    return;
                }
                if (status is not ((int)HttpStatusCode.TooManyRequests or >= 500 or (int)HttpStatusCode.RequestTimeout))
                {
                    // Bad credentials, a name it refuses: trying the same request again cannot help.
                    SelfLog.WriteLine("Elasticsearch refused a batch of {0} log events with {1}; they are dropped", count, status);
                    Drop(count, "rejected");
                    return;
                }
                failure = $"HTTP {status}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                failure = e.Message;
            }
            if (_stopping.IsCancellationRequested)
            {
                Drop(count, "shutdown");
                return;
            }
            if (!_failing)
                SelfLog.WriteLine("Elasticsearch at {0} is failing ({1}); log events wait in a queue of {2} and are dropped beyond it", _bulk, failure, _options.QueueLimit);
            _failing = true;
            try { await Task.Delay(delay, _stopping.Token); }
            catch (OperationCanceledException) { }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }

    private void Recovered()
    {
        if (_failing)
            SelfLog.WriteLine("Elasticsearch at {0} accepts log events again", _bulk);
        _failing = false;
    }

    /// <summary>A 200 can still refuse items (a mapping conflict): those are counted, not retried.</summary>
    private void CountRejectedItems(string answer, int count)
    {
        try
        {
            using var json = JsonDocument.Parse(answer);
            if (!json.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.True)
                return;
            var rejected = json.RootElement.GetProperty("items").EnumerateArray()
                .Count(item => item.EnumerateObject().First().Value.GetProperty("status").GetInt32() >= 300);
            SelfLog.WriteLine("Elasticsearch rejected {0} of {1} log events", rejected, count);
            Drop(rejected, "rejected");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            SelfLog.WriteLine("Elasticsearch's answer to a bulk request was not the _bulk shape; counting its {0} events as dropped", count);
            Drop(count, "failed");
        }
    }

    private void Drop(int count, string reason)
    {
        if (count > 0)
            _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Sends what is queued, for at most <see cref="FlushTimeout"/>; what is left then is counted as dropped.</summary>
    public void Dispose()
    {
        if (!_queue.Writer.TryComplete())
            return;
        _stopping.CancelAfter(FlushTimeout);
        _shipping.Wait(FlushTimeout + TimeSpan.FromSeconds(1));
        var left = 0;
        while (_queue.Reader.TryRead(out _))
            left++;
        Drop(left, "shutdown");
        _http.Dispose();
    }
}
