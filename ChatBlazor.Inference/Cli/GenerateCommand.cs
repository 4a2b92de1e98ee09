using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Cli;

/// <summary>Streams a completion to stdout, or prints it with token ids and timings as JSON.</summary>
internal static class GenerateCommand
{
    public static async Task<int> RunAsync(Args args)
    {
        var inputs = new[] { "prompt", "tokens", "chat" }.Count(n => args.String(n) is not null);
        if (inputs != 1)
            throw new UsageException("give exactly one of --prompt, --tokens or --chat");
        var model = LoadedModel.Load(args.Required("model"), weightType: DtypeOption.Read(args));

        IReadOnlyList<int> prompt = args.Tokens("tokens")
            ?? (args.String("chat") is { } chat
                ? model.EncodeChat([new ChatMessage("user", chat)])
                : (model.Tokenizer ?? throw new ArgumentException($"model {model.Name} has no tokenizer.json; use --tokens")).Encode(args.Required("prompt")));

        // Without an explicit temperature, follow the model's generation_config.json: sample if it says so, else greedy.
        var defaults = model.Defaults;
        var parameters = new SamplingParams
        {
            Temperature = args.Double("temperature") ?? (defaults.DoSample ? defaults.Temperature ?? 1.0 : 0),
            TopP = args.Double("top-p") ?? (defaults.DoSample ? defaults.TopP ?? 1.0 : 1.0),
            TopK = args.Int("top-k") ?? (defaults.DoSample ? defaults.TopK ?? 0 : 0),
            Seed = args.Int("seed"),
            MaxTokens = args.Int("max-tokens") ?? 256,
            Stop = args.All("stop"),
            IgnoreEos = args.Flag("ignore-eos"),
        };

        var json = args.Flag("json");
        var tokens = new List<int>();
        var text = new StringBuilder();
        FinishReason? finish = null;
        GenerationUsage? usage = null;
        var clock = Stopwatch.StartNew();
        double? firstTokenMs = null;
        await foreach (var chunk in model.Generator.GenerateAsync(prompt, parameters))
        {
            firstTokenMs ??= clock.Elapsed.TotalMilliseconds;
            tokens.AddRange(chunk.TokenIds);
            text.Append(chunk.Text);
            if (!json)
                Console.Write(chunk.Text);
            (finish, usage) = (chunk.FinishReason ?? finish, chunk.Usage ?? usage);
        }
        var decodeSeconds = (clock.Elapsed.TotalMilliseconds - firstTokenMs!.Value) / 1000;

        if (!json)
        {
            Console.WriteLine();
            return 0;
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["tokens"] = tokens,
            ["text"] = text.ToString(),
            ["finish_reason"] = finish?.ToString().ToLowerInvariant(),
            ["prompt_tokens"] = usage?.PromptTokens,
            ["completion_tokens"] = usage?.CompletionTokens,
            ["ttft_ms"] = Math.Round(firstTokenMs.Value, 2),
            ["decode_tokens_per_s"] = tokens.Count > 1 ? Math.Round((tokens.Count - 1) / decodeSeconds, 2) : null,
        }));
        return 0;
    }
}
