using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// The engine's figures, labelled by model (<c>model_name</c>), as <see cref="System.Diagnostics.Metrics"/>
/// instruments of the meter <see cref="MeterName"/>: an exporter (Prometheus at <c>/metrics</c>, OTLP) turns them into
/// series whose names follow vLLM's, so existing dashboards read them. Written by the scheduler; the recent window
/// behind <see cref="ModelStatus"/> (the console, <c>GET /status</c>) is kept here too.
/// </summary>
/// <remarks>
/// One meter per process, its instruments static: exporters subscribe to meters by name, and identical instruments
/// of several meter instances share one stream that dies with the first instance disposed. The gauges read every live
/// <see cref="EngineMetrics"/> (a host has one, the web app one for its in-process engine, a test process many, which
/// tell their figures apart by model name).
/// </remarks>
public sealed class EngineMetrics : IDisposable
{
    /// <summary>The meter (and activity source) of the engine.</summary>
    public const string MeterName = "ChatBlazor.Inference.Engine";

    /// <summary>Spans of generation, from a request's arrival to its last token.</summary>
    public static readonly ActivitySource Source = new(MeterName);

    internal static readonly Meter Meter = new(MeterName);

    // Seconds: from a few milliseconds (a token of a small model) to a minute (a long reply queued behind others).
    private static readonly InstrumentAdvice<double> LatencyBuckets = new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] };

    private static readonly Counter<long> PromptTokens = Meter.CreateCounter<long>("chatblazor_prompt_tokens", "{token}", "Prompt tokens processed (prefix-cache hits excluded).");
    private static readonly Counter<long> GenerationTokens = Meter.CreateCounter<long>("chatblazor_generation_tokens", "{token}", "Tokens generated.");
    private static readonly Counter<long> Preemptions = Meter.CreateCounter<long>("chatblazor_num_preemptions", "{sequence}", "Sequences preempted for memory and recomputed later.");
    private static readonly Counter<long> RequestsFinished = Meter.CreateCounter<long>("chatblazor_request_success", "{request}", "Finished requests by finish reason.");
    private static readonly Counter<long> PrefixQueries = Meter.CreateCounter<long>("chatblazor_prefix_cache_queries", "{token}", "Prompt tokens looked up in the prefix cache.");
    private static readonly Counter<long> PrefixHits = Meter.CreateCounter<long>("chatblazor_prefix_cache_hits", "{token}", "Prompt tokens found in the prefix cache (not computed again).");
    private static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram("chatblazor_time_to_first_token", "s", "Time from arrival to the first generated token.", advice: LatencyBuckets);
    private static readonly Histogram<double> InterTokenLatency = Meter.CreateHistogram("chatblazor_inter_token_latency", "s", "Time between consecutive tokens of a stream.", advice: LatencyBuckets);
    private static readonly Histogram<double> EndToEndLatency = Meter.CreateHistogram("chatblazor_e2e_request_latency", "s", "Time from arrival to the last token.", advice: LatencyBuckets);
    private static readonly Histogram<double> QueueTime = Meter.CreateHistogram("chatblazor_request_queue_time", "s", "Time spent waiting for admission.", advice: LatencyBuckets);

    private static readonly ConcurrentDictionary<EngineMetrics, byte> Live = new(ReferenceEqualityComparer.Instance);

    static EngineMetrics()
    {
        Meter.CreateObservableGauge("chatblazor_num_requests_running", () => Gauge(m => m.Running), "{sequence}", "Sequences in the running batch.");
        Meter.CreateObservableGauge("chatblazor_num_requests_waiting", () => Gauge(m => m.Waiting), "{request}", "Requests queued for admission.");
        Meter.CreateObservableGauge("chatblazor_kv_cache_usage_perc", () => Gauge(m => m.KvCacheUsage), description: "Fraction of the KV cache memory in use (0 to 1).");
    }

    private readonly ConcurrentDictionary<string, ModelMetrics> _models = new();

    public EngineMetrics() => Live.TryAdd(this, 0);

    public ModelMetrics For(string model) => _models.GetOrAdd(model, name => new ModelMetrics(name));

    /// <summary>Forgets an unloaded model, so a stale load is never shown for it.</summary>
    public void Remove(string model) => _models.TryRemove(model, out _);

    /// <summary>Stops showing this engine's gauges (the engine was disposed).</summary>
    public void Dispose() => Live.TryRemove(this, out _);

    private static List<Measurement<T>> Gauge<T>(Func<ModelMetrics, T> value) where T : struct =>
        [.. Live.Keys.SelectMany(e => e._models.Values).Select(m => new Measurement<T>(value(m), m.Tag))];

    public sealed class ModelMetrics
    {
        private readonly RecentWindow _recent = new();
        private volatile LoadState _load = new(0, 0, 0);

        internal ModelMetrics(string model) => Tag = new("model_name", model);

        internal KeyValuePair<string, object?> Tag { get; }
        internal int Running => _load.Running;
        internal int Waiting => _load.Waiting;
        internal double KvCacheUsage => _load.KvCacheUsage;

        public void SetLoad(int running, int waiting, double kvCacheUsage) => _load = new(running, waiting, kvCacheUsage);

        public void AddPromptTokens(long count) => PromptTokens.Add(count, Tag);

        public void AddGenerationTokens(long count)
        {
            GenerationTokens.Add(count, Tag);
            _recent.AddTokens(count);
        }

        public void AddPreemption() => Preemptions.Add(1, Tag);

        /// <summary>A prompt of <paramref name="tokens"/> tokens was admitted with <paramref name="cached"/> of them from the prefix cache.</summary>
        public void ObservePrefixLookup(int tokens, int cached)
        {
            PrefixQueries.Add(tokens, Tag);
            PrefixHits.Add(cached, Tag);
        }

        public void ObserveQueueTime(TimeSpan t) => QueueTime.Record(t.TotalSeconds, Tag);

        public void ObserveTimeToFirstToken(TimeSpan t)
        {
            TimeToFirstToken.Record(t.TotalSeconds, Tag);
            _recent.AddFirstToken(t);
        }

        public void ObserveInterTokenLatency(TimeSpan t) => InterTokenLatency.Record(t.TotalSeconds, Tag);

        public void ObserveFinished(string reason, TimeSpan endToEnd)
        {
            EndToEndLatency.Record(endToEnd.TotalSeconds, Tag);
            RequestsFinished.Add(1, Tag, new("finished_reason", reason));
        }

        /// <summary>The figures of the console and of <c>GET /status</c>.</summary>
        public ModelStatus Status(string model)
        {
            var load = _load;
            var (tokensPerSecond, firstTokenMs) = _recent.Read();
            return new ModelStatus(model, load.Running, load.Waiting, load.KvCacheUsage, tokensPerSecond, firstTokenMs);
        }

        private sealed record LoadState(int Running, int Waiting, double KvCacheUsage);
    }
}
