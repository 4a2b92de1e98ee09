using System.Globalization;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Loadgen;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// Serving load: many concurrent streamed requests of random prompts, against a server (<c>--url</c>) or an engine
/// loaded here (<c>--model-dir</c>), reporting throughput and TTFT/TPOT/ITL/latency as vLLM's benchmark_serving.py
/// does, so the numbers compare with vLLM's on the same model and card.
/// </summary>
internal static class LoadgenCommand
{
    /// <summary>Token ids are drawn below this when a server does not say its vocabulary size: every common vocabulary has at least this many.</summary>
    private const int FallbackVocabSize = 32000;

    public static async Task<int> RunAsync(Args args)
    {
        var url = args.String("url");
        var modelDir = args.String("model-dir");
        if ((url is null) == (modelDir is null))
            throw new UsageException("give exactly one of --url and --model-dir");
        if (url is not null && args.String("dtype") is not null)
            throw new UsageException("--dtype applies to --model-dir only: a server keeps its models as it was told");
        var dtype = DtypeOption.Read(args);
        var endpoint = args.String("endpoint") switch
        {
            null or "completions" => LoadgenEndpoint.Completions,
            "chat" => LoadgenEndpoint.Chat,
            var other => throw new UsageException($"--endpoint must be completions or chat, got '{other}'"),
        };
        var numPrompts = Positive(args, "num-prompts", 100);
        var inputLen = Positive(args, "input-len", 256);
        var outputLen = Positive(args, "output-len", 128);
        var rangeRatio = args.Double("random-range-ratio") ?? 0;
        if (rangeRatio is < 0 or >= 1)
            throw new UsageException("--random-range-ratio must be at least 0 and below 1");
        var rate = args.Double("request-rate");
        if (rate is { } r && (!(r > 0) || double.IsInfinity(r)))
            throw new UsageException("--request-rate must be a positive number (leave it out to send at once)");
        // A rate alone has no cap, as in vLLM; with neither, 8 in flight.
        int? concurrency = args.Int("concurrency") is { } c ? c : rate is null ? 8 : null;
        if (concurrency < 1)
            throw new UsageException("--concurrency must be positive");
        var seed = args.Int("seed") ?? 0;
        var timeout = TimeSpan.FromSeconds(args.Double("timeout-s") ?? 600);
        if (timeout <= TimeSpan.Zero)
            throw new UsageException("--timeout-s must be positive");

        // Ctrl+C ends the run early but still reports what finished.
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        // The same variable serve reads its key from: on the box that runs the host, loadgen needs nothing more.
        if (Environment.GetEnvironmentVariable(HostAccess.ApiKeyVariable) is { Length: > 0 } key)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Trim());
        InferenceEngine? engine = null;
        try
        {
            ILoadTarget target;
            string model;
            int vocabSize;
            int? contextWindow;
            if (url is not null)
            {
                var baseUrl = BaseUrl(url);
                var served = await DescribeServerModelAsync(http, baseUrl, args.String("model"), stop.Token);
                model = args.String("model") ?? served?.Id
                    ?? throw new InvalidOperationException($"{baseUrl}v1/models lists no model; name one with --model");
                vocabSize = served?.VocabSize ?? FallbackVocabSize;
                if (served?.VocabSize is null && endpoint == LoadgenEndpoint.Completions)
                    Console.Error.WriteLine($"note: the server does not report its vocabulary size; prompt token ids are drawn below {FallbackVocabSize}");
                contextWindow = served?.MaxModelLen;
                target = new OpenAiStreamingTarget(http, baseUrl, model, endpoint);
            }
            else
            {
                var loaded = LoadedModel.Load(modelDir!, args.String("model"), weightType: dtype);
                engine = CreateEmbeddedEngine(loaded);
                (model, vocabSize, contextWindow) = (loaded.Name, loaded.Model.Config.VocabSize, loaded.Model.Config.MaxPositionEmbeddings);
                target = new EmbeddedEngineTarget(engine, model);
            }
            var longest = (int)(inputLen * (1 + rangeRatio)) + outputLen;
            if (contextWindow is { } window && longest > window)
                Console.Error.WriteLine($"note: prompts plus output reach {longest} tokens, past the model's {window}; expect refused or cut-short requests");

            var requests = endpoint == LoadgenEndpoint.Chat
                ? PromptFactory.TextPrompts(numPrompts, inputLen, rangeRatio, outputLen, seed)
                : PromptFactory.TokenPrompts(numPrompts, inputLen, rangeRatio, outputLen, vocabSize, seed);
            // A seed of its own, so that changing the rate does not change the prompts.
            var arrivals = rate is { } perSecond ? new PoissonArrivals(perSecond, unchecked(seed + 1)) : null;

            // The deadline bounds the requests, not the model load before them.
            stop.CancelAfter(timeout);
            var run = await new LoadRunner(target, concurrency, arrivals).RunAsync(requests, stop.Token);
            var report = LoadReport.From(run);
            Console.WriteLine(args.Flag("json")
                ? report.ToJson(new Dictionary<string, object?>
                {
                    ["target"] = url ?? modelDir,
                    ["model"] = model,
                    ["endpoint"] = endpoint == LoadgenEndpoint.Chat ? "chat" : "completions",
                    ["num_prompts"] = numPrompts,
                    ["input_len"] = inputLen,
                    ["output_len"] = outputLen,
                    ["random_range_ratio"] = rangeRatio,
                    ["concurrency"] = concurrency,
                    ["request_rate"] = rate,
                    ["seed"] = seed,
                })
                : $"loadgen: {numPrompts} requests of {inputLen}+{outputLen} tokens to {model}, "
                  + $"concurrency {concurrency?.ToString(CultureInfo.InvariantCulture) ?? "unlimited"}, "
                  + $"rate {rate?.ToString(CultureInfo.InvariantCulture) ?? "unlimited"} req/s\n" + report.ToText());
            // Nothing completed is a broken setup (wrong model, server down), not a measurement.
            return report.Completed > 0 ? 0 : 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
            engine?.Dispose();
        }
    }

    /// <summary>The one place the embedded engine is built: with the serving defaults, so it measures what a server would run.</summary>
    private static InferenceEngine CreateEmbeddedEngine(LoadedModel model) => new([model]);

    /// <summary>The server's model entry; null, with a note, when the server has no usable <c>/v1/models</c>.</summary>
    private static async Task<ServerModel?> DescribeServerModelAsync(HttpClient http, Uri baseUrl, string? model, CancellationToken cancellationToken)
    {
        try
        {
            return await ServerModel.FetchAsync(http, baseUrl, model, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"note: GET {baseUrl}v1/models failed ({e.Message})");
            return null;
        }
    }

    /// <summary>http://host:port, with or without a trailing / or /v1, as a base the endpoint paths resolve against.</summary>
    private static Uri BaseUrl(string url)
    {
        var trimmed = url.TrimEnd('/');
        if (trimmed.EndsWith("/v1", StringComparison.Ordinal))
            trimmed = trimmed[..^3];
        return Uri.TryCreate(trimmed + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new UsageException($"--url must be an http(s) address, got '{url}'");
    }

    private static int Positive(Args args, string name, int fallback) =>
        args.Int(name) is { } value ? value >= 1 ? value : throw new UsageException($"--{name} must be positive") : fallback;
}
