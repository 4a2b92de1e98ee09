using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// The engine's Prometheus metrics, labelled by model, in the text exposition format (names follow vLLM's, so
/// existing dashboards read them). Written by the scheduler, read by <c>GET /metrics</c>.
/// </summary>
public sealed class EngineMetrics
{
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<string, ModelMetrics> _models = new();

    public ModelMetrics For(string model) => _models.GetOrAdd(model, _ => new ModelMetrics());

    /// <summary>Forgets an unloaded model, so a stale load is never shown for it.</summary>
    public void Remove(string model) => _models.TryRemove(model, out _);

    public sealed class ModelMetrics
    {
        private readonly Lock _lock = new();
        internal readonly Histogram TimeToFirstToken = new(LatencyBuckets);
        internal readonly Histogram InterTokenLatency = new(LatencyBuckets);
        internal readonly Histogram EndToEndLatency = new(LatencyBuckets);
        internal readonly Histogram QueueTime = new(LatencyBuckets);
        internal long PromptTokens, GenerationTokens, Preemptions;
        internal readonly Dictionary<string, long> FinishedByReason = [];
        internal int Running, Waiting;
        internal double KvCacheUsage;
        internal readonly RecentWindow Recent = new();

        public void SetLoad(int running, int waiting, double kvCacheUsage)
        {
            lock (_lock)
                (Running, Waiting, KvCacheUsage) = (running, waiting, kvCacheUsage);
        }

        public void AddPromptTokens(long count) => Interlocked.Add(ref PromptTokens, count);

        public void AddGenerationTokens(long count)
        {
            Interlocked.Add(ref GenerationTokens, count);
            Recent.AddTokens(count);
        }

        public void AddPreemption() => Interlocked.Increment(ref Preemptions);

        public void ObserveQueueTime(TimeSpan t) => QueueTime.Observe(t.TotalSeconds);

        public void ObserveTimeToFirstToken(TimeSpan t)
        {
            TimeToFirstToken.Observe(t.TotalSeconds);
            Recent.AddFirstToken(t);
        }

        /// <summary>The figures of the console and of <c>GET /status</c>.</summary>
        public ModelStatus Status(string model)
        {
            var (running, waiting, kv, _) = Snapshot();
            var (tokensPerSecond, firstTokenMs) = Recent.Read();
            return new ModelStatus(model, running, waiting, kv, tokensPerSecond, firstTokenMs);
        }

        public void ObserveInterTokenLatency(TimeSpan t) => InterTokenLatency.Observe(t.TotalSeconds);

        public void ObserveFinished(string reason, TimeSpan endToEnd)
        {
            EndToEndLatency.Observe(endToEnd.TotalSeconds);
            lock (_lock)
                FinishedByReason[reason] = FinishedByReason.GetValueOrDefault(reason) + 1;
        }

        internal (int Running, int Waiting, double KvCacheUsage, Dictionary<string, long> Finished) Snapshot()
        {
            lock (_lock)
                return (Running, Waiting, KvCacheUsage, new Dictionary<string, long>(FinishedByReason));
        }
    }

    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        void Header(string name, string type, string help) => text.Append($"# HELP {name} {help}\n# TYPE {name} {type}\n");
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var models = _models.OrderBy(m => m.Key).Select(m => (Label: $"model_name=\"{Escape(m.Key)}\"", Metrics: m.Value, State: m.Value.Snapshot())).ToArray();

        // One line per model for each single-valued series.
        void Series(string name, string type, string help, Func<(string Label, ModelMetrics Metrics, (int Running, int Waiting, double KvCacheUsage, Dictionary<string, long> Finished) State), string> value)
        {
            Header(name, type, help);
            foreach (var m in models)
                text.Append($"{name}{{{m.Label}}} {value(m)}\n");
        }

        Series("chatblazor_num_requests_running", "gauge", "Sequences in the running batch.", m => $"{m.State.Running}");
        Series("chatblazor_num_requests_waiting", "gauge", "Requests queued for admission.", m => $"{m.State.Waiting}");
        Series("chatblazor_kv_cache_usage_perc", "gauge", "Fraction of the KV cache memory in use (0 to 1).", m => F(m.State.KvCacheUsage));
        Series("chatblazor_prompt_tokens_total", "counter", "Prompt tokens processed.", m => $"{Interlocked.Read(ref m.Metrics.PromptTokens)}");
        Series("chatblazor_generation_tokens_total", "counter", "Tokens generated.", m => $"{Interlocked.Read(ref m.Metrics.GenerationTokens)}");
        Series("chatblazor_num_preemptions_total", "counter", "Sequences preempted for memory and recomputed later.", m => $"{Interlocked.Read(ref m.Metrics.Preemptions)}");
        Header("chatblazor_request_success_total", "counter", "Finished requests by finish reason.");
        foreach (var m in models)
            foreach (var (reason, count) in m.State.Finished.OrderBy(r => r.Key))
                text.Append($"chatblazor_request_success_total{{{m.Label},finished_reason=\"{reason}\"}} {count}\n");

        foreach (var (name, help, pick) in new (string, string, Func<ModelMetrics, Histogram>)[]
        {
            ("chatblazor_time_to_first_token_seconds", "Time from arrival to the first generated token.", m => m.TimeToFirstToken),
            ("chatblazor_inter_token_latency_seconds", "Time between consecutive tokens of a stream.", m => m.InterTokenLatency),
            ("chatblazor_e2e_request_latency_seconds", "Time from arrival to the last token.", m => m.EndToEndLatency),
            ("chatblazor_request_queue_time_seconds", "Time spent waiting for admission.", m => m.QueueTime),
        })
        {
            Header(name, "histogram", help);
            foreach (var m in models)
                pick(m.Metrics).Write(text, name, m.Label);
        }
        return text.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    internal sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private double _sum;
        private readonly Lock _lock = new();

        public void Observe(double value)
        {
            lock (_lock)
            {
                var bucket = Array.FindIndex(bounds, b => value <= b);
                _counts[bucket < 0 ? bounds.Length : bucket]++;
                _sum += value;
            }
        }

        public void Write(StringBuilder text, string name, string label)
        {
            long[] counts;
            double sum;
            lock (_lock)
                (counts, sum) = ((long[])_counts.Clone(), _sum);
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += counts[i];
                text.Append($"{name}_bucket{{{label},le=\"{bounds[i].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
            }
            cumulative += counts[^1];
            text.Append($"{name}_bucket{{{label},le=\"+Inf\"}} {cumulative}\n");
            text.Append($"{name}_sum{{{label}}} {sum.ToString("R", CultureInfo.InvariantCulture)}\n");
            text.Append($"{name}_count{{{label}}} {cumulative}\n");
        }
    }
}
