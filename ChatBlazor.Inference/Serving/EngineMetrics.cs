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
/// Each instance has its own <see cref="System.Diagnostics.Metrics.Meter"/> of that name, so its figures can be read
/// apart (tests listen to one engine's); exporters subscribe by name and merge identical instruments of several
/// instances (a test process hosts many engines) into one series per label set.
/// </remarks>
public sealed class EngineMetrics : IDisposable
{
    /// <summary>The meter (and activity source) of the engine.</summary>
    public const string MeterName = "ChatBlazor.Inference.Engine";

    /// <summary>Spans of generation, from a request's arrival to its last token.</summary>
    public static readonly ActivitySource Source = new(MeterName);

    // Seconds: from a few milliseconds (a token of a small model) to a minute (a long reply queued behind others).
    private static readonly InstrumentAdvice<double> LatencyBuckets = new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] };

    private readonly ConcurrentDictionary<string, ModelMetrics> _models = new();
    private readonly Instruments _instruments;

    public EngineMetrics()
    {
        Meter = new Meter(MeterName);
        _instruments = new Instruments(Meter);
        Meter.CreateObservableGauge("chatblazor_num_requests_running", () => Gauge(m => m.Running), "{sequence}", "Sequences in the running batch.");
        Meter.CreateObservableGauge("chatblazor_num_requests_waiting", () => Gauge(m => m.Waiting), "{request}", "Requests queued for admission.");
        Meter.CreateObservableGauge("chatblazor_kv_cache_usage_perc", () => Gauge(m => m.KvCacheUsage), description: "Fraction of the KV cache memory in use (0 to 1).");
    }

    /// <summary>This engine's meter.</summary>
    public Meter Meter { get; }

    public ModelMetrics For(string model) => _models.GetOrAdd(model, name => new ModelMetrics(name, _instruments));

    /// <summary>Forgets an unloaded model, so a stale load is never shown for it.</summary>
    public void Remove(string model) => _models.TryRemove(model, out _);

    /// <summary>Ends this engine's instruments (the engine was disposed): exporters stop showing its gauges.</summary>
    public void Dispose() => Meter.Dispose();

    private IEnumerable<Measurement<T>> Gauge<T>(Func<ModelMetrics, T> value) where T : struct =>
        [.. _models.Values.Select(m => new Measurement<T>(value(m), m.Tag))];

    internal sealed class Instruments(Meter meter)
    {
        public readonly Counter<long> PromptTokens = meter.CreateCounter<long>("chatblazor_prompt_tokens", "{token}", "Prompt tokens processed (prefix-cache hits excluded).");
        public readonly Counter<long> GenerationTokens = meter.CreateCounter<long>("chatblazor_generation_tokens", "{token}", "Tokens generated.");
        public readonly Counter<long> Preemptions = meter.CreateCounter<long>("chatblazor_num_preemptions", "{sequence}", "Sequences preempted for memory and recomputed later.");
        public readonly Counter<long> RequestsFinished = meter.CreateCounter<long>("chatblazor_request_success", "{request}", "Finished requests by finish reason.");
        public readonly Counter<long> PrefixQueries = meter.CreateCounter<long>("chatblazor_prefix_cache_queries", "{token}", "Prompt tokens looked up in the prefix cache.");
        public readonly Counter<long> PrefixHits = meter.CreateCounter<long>("chatblazor_prefix_cache_hits", "{token}", "Prompt tokens found in the prefix cache (not computed again).");
        public readonly Histogram<double> TimeToFirstToken = meter.CreateHistogram("chatblazor_time_to_first_token", "s", "Time from arrival to the first generated token.", advice: LatencyBuckets);
        public readonly Histogram<double> InterTokenLatency = meter.CreateHistogram("chatblazor_inter_token_latency", "s", "Time between consecutive tokens of a stream.", advice: LatencyBuckets);
        public readonly Histogram<double> EndToEndLatency = meter.CreateHistogram("chatblazor_e2e_request_latency", "s", "Time from arrival to the last token.", advice: LatencyBuckets);
        public readonly Histogram<double> QueueTime = meter.CreateHistogram("chatblazor_request_queue_time", "s", "Time spent waiting for admission.", advice: LatencyBuckets);
    }

    public sealed class ModelMetrics
    {
        private readonly RecentWindow _recent = new();
        private volatile LoadState _load = new(0, 0, 0);

        private readonly Instruments _i;

        internal ModelMetrics(string model, Instruments instruments) => (Tag, _i) = (new("model_name", model), instruments);

        internal KeyValuePair<string, object?> Tag { get; }
        internal int Running => _load.Running;
        internal int Waiting => _load.Waiting;
        internal double KvCacheUsage => _load.KvCacheUsage;

        public void SetLoad(int running, int waiting, double kvCacheUsage) => _load = new(running, waiting, kvCacheUsage);

        public void AddPromptTokens(long count) => _i.PromptTokens.Add(count, Tag);

        public void AddGenerationTokens(long count)
        {
            _i.GenerationTokens.Add(count, Tag);
            _recent.AddTokens(count);
        }

        public void AddPreemption() => _i.Preemptions.Add(1, Tag);

        /// <summary>A prompt of <paramref name="tokens"/> tokens was admitted with <paramref name="cached"/> of them from the prefix cache.</summary>
        public void ObservePrefixLookup(int tokens, int cached)
        {
            _i.PrefixQueries.Add(tokens, Tag);
            _i.PrefixHits.Add(cached, Tag);
        }

        public void ObserveQueueTime(TimeSpan t) => _i.QueueTime.Record(t.TotalSeconds, Tag);

        public void ObserveTimeToFirstToken(TimeSpan t)
        {
            _i.TimeToFirstToken.Record(t.TotalSeconds, Tag);
            _recent.AddFirstToken(t);
        }

        public void ObserveInterTokenLatency(TimeSpan t) => _i.InterTokenLatency.Record(t.TotalSeconds, Tag);

        public void ObserveFinished(string reason, TimeSpan endToEnd)
        {
            _i.EndToEndLatency.Record(endToEnd.TotalSeconds, Tag);
            _i.RequestsFinished.Add(1, Tag, new("finished_reason", reason));
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
