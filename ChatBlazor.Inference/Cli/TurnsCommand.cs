using System.Diagnostics;
using System.Text.Json;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// What prefix reuse buys a conversation: time to first token of a second turn (first turn's prompt and reply,
/// then a new message) on an engine that kept the first turn's cache, against one that recomputes it.
/// </summary>
internal static class TurnsCommand
{
    public static async Task<int> RunAsync(Args args)
    {
        var promptTokens = args.Int("prompt-tokens") ?? 256;
        var replyTokens = args.Int("new-tokens") ?? 128;
        var followUp = args.Int("follow-up-tokens") ?? 32;
        var kvType = ServeCommand.ParseKvType(args.String("kv-dtype")) ?? new EngineOptions().KvType;
        var model = LoadedModel.Load(args.Required("model"));
        var random = new Random(1234);
        int[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.Next(model.Model.Config.VocabSize)).ToArray();

        var results = new Dictionary<string, object>();
        foreach (var reuse in new[] { true, false })
        {
            using var engine = new InferenceEngine([model], new EngineOptions { PrefixCaching = reuse, KvType = kvType });
            var ttfts = new List<double>();
            for (var run = 0; run < 4; run++) // the first run warms up and is not counted
            {
                var first = Random(promptTokens);
                var reply = await TokensAsync(engine, model.Name, first, replyTokens);
                int[] second = [.. first, .. reply, .. Random(followUp)];
                var clock = Stopwatch.StartNew();
                await foreach (var _ in engine.GenerateAsync(Request(model.Name, second, 1)))
                    break;
                if (run > 0)
                    ttfts.Add(clock.Elapsed.TotalMilliseconds);
            }
            results[reuse ? "second_turn_ttft_ms_with_reuse" : "second_turn_ttft_ms_without_reuse"] = Math.Round(ttfts.Order().ElementAt(ttfts.Count / 2), 1);
        }
        results["speedup"] = Math.Round((double)results["second_turn_ttft_ms_without_reuse"] / (double)results["second_turn_ttft_ms_with_reuse"], 2);
        Console.WriteLine(JsonSerializer.Serialize(results));
        return 0;
    }

    private static CompletionRequest Request(string model, int[] prompt, int maxTokens) =>
        new(model, SamplingParams.Greedy with { MaxTokens = maxTokens, IgnoreEos = true }, PromptTokens: prompt);

    private static async Task<int[]> TokensAsync(IInferenceEngine engine, string model, int[] prompt, int maxTokens)
    {
        var tokens = new List<int>();
        await foreach (var chunk in engine.GenerateAsync(Request(model, prompt, maxTokens)))
            tokens.AddRange(chunk.TokenIds);
        return [.. tokens];
    }
}
