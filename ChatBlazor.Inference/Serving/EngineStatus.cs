using System.Diagnostics;
using System.Text.Json.Serialization;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// A model's live figures, as <c>GET /status</c> of a host returns them and the web console shows them: sequences
/// running and waiting, KV cache use (0 to 1), and over the last <see cref="RecentWindow.Span"/>: tokens per second
/// while generating and the mean time to first token (null when nothing was served in that window).
/// </summary>
public sealed record ModelStatus(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("kv_cache_usage")] double KvCacheUsage,
    [property: JsonPropertyName("tokens_per_second")] double? TokensPerSecond,
    [property: JsonPropertyName("time_to_first_token_ms")] double? TimeToFirstTokenMs);

/// <summary>The body of a host's <c>GET /status</c>: one entry per loaded model.</summary>
public sealed record EngineStatusReport([property: JsonPropertyName("models")] IReadOnlyList<ModelStatus> Models);

/// <summary>
/// Generated tokens and times to first token in one-second buckets over the last few minutes, so the figures follow
/// the engine's present rather than its whole life (the Prometheus histograms keep that). Tokens per second counts
/// only seconds in which something was generated: an idle minute must not read as a slow model.
/// </summary>
public sealed class RecentWindow
{
    public static readonly TimeSpan Span = TimeSpan.FromMinutes(5);

    private readonly Lock _lock = new();
    private readonly long[] _second = new long[(int)Span.TotalSeconds];
    private readonly long[] _tokens = new long[(int)Span.TotalSeconds];
    private readonly double[] _firstTokenMs = new double[(int)Span.TotalSeconds];
    private readonly int[] _firsts = new int[(int)Span.TotalSeconds];
    private readonly Func<long> _now;

    /// <param name="nowSeconds">The clock in whole seconds (tests move it); the monotonic clock by default.</param>
    public RecentWindow(Func<long>? nowSeconds = null) => _now = nowSeconds ?? (() => Stopwatch.GetTimestamp() / Stopwatch.Frequency);

    public void AddTokens(long count)
    {
        lock (_lock)
            _tokens[Bucket()] += count;
    }

    public void AddFirstToken(TimeSpan elapsed)
    {
        lock (_lock)
        {
            var i = Bucket();
            _firstTokenMs[i] += elapsed.TotalMilliseconds;
            _firsts[i]++;
        }
    }

    public (double? TokensPerSecond, double? TimeToFirstTokenMs) Read()
    {
        lock (_lock)
        {
            var now = _now();
            long tokens = 0, activeSeconds = 0, firsts = 0;
            double firstMs = 0;
            for (var i = 0; i < _second.Length; i++)
            {
                if (now - _second[i] >= _second.Length)
                    continue; // a bucket from an earlier lap
                tokens += _tokens[i];
                activeSeconds += _tokens[i] > 0 ? 1 : 0;
                (firstMs, firsts) = (firstMs + _firstTokenMs[i], firsts + _firsts[i]);
            }
            return (activeSeconds > 0 ? Math.Round((double)tokens / activeSeconds, 1) : null, firsts > 0 ? Math.Round(firstMs / firsts, 1) : null);
        }
    }

    private int Bucket()
    {
        var now = _now();
        var i = (int)(now % _second.Length);
        if (_second[i] != now)
            (_second[i], _tokens[i], _firstTokenMs[i], _firsts[i]) = (now, 0, 0, 0);
        return i;
    }
}
