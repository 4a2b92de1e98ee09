using System.Diagnostics;
using System.Text.Json;
using ChatBlazor.Inference.Models;
using TorchSharp;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// Single-sequence speed: prefill a random prompt, then decode greedily, ignoring end-of-sequence. Reports
/// prefill and decode tokens/s, time to first token and the process's peak resident memory.
/// </summary>
internal static class BenchCommand
{
    public static int Run(Args args)
    {
        var promptTokens = args.Int("prompt-tokens") ?? 256;
        var newTokens = args.Int("new-tokens") ?? 128;
        if (promptTokens < 1 || newTokens < 1)
            throw new UsageException("--prompt-tokens and --new-tokens must be positive");
        // The KV cache as a server keeps it unless told otherwise.
        var kvType = ServeCommand.ParseKvType(args.String("kv-dtype")) ?? new Serving.EngineOptions().KvType;
        var model = LlamaModel.Load(args.Required("model"), weightType: DtypeOption.Read(args));
        var random = new Random(1234);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(model.Config.VocabSize)).ToArray();

        // A first run pays one-time costs (JIT, first touch of every weight page, LibTorch's buffers): not measured.
        // Enough decode steps that the runtime has recompiled the hot loops with full optimization.
        Run(model, prompt, Math.Min(newTokens, 64), kvType);
        var (prefillMs, decodeMs, rssAfterPrefill) = Run(model, prompt, newTokens, kvType);

        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["prefill_tokens_per_s"] = Math.Round(promptTokens / (prefillMs / 1000), 1),
            ["decode_tokens_per_s"] = Math.Round((newTokens - 1) / (decodeMs / 1000), 1),
            ["ttft_ms"] = Math.Round(prefillMs, 1),
            ["peak_rss_mb"] = Status("VmHWM"),
            // Decoding allocates nothing that grows with length: these two stay level over thousands of tokens.
            ["rss_after_prefill_mb"] = rssAfterPrefill,
            ["rss_end_mb"] = Status("VmRSS"),
            ["threads"] = torch.get_num_threads(),
            ["kv_dtype"] = kvType.ToString().ToLowerInvariant(),
            ["dtype"] = model.WeightType.Name(),
        }));
        return 0;
    }

    private static (double PrefillMs, double DecodeMs, long RssAfterPrefillMb) Run(LlamaModel model, int[] prompt, int newTokens, KvType kvType)
    {
        using var cache = new KvCache(model.Config, prompt.Length + newTokens, model.Device, kvType);
        var clock = Stopwatch.StartNew();
        int next;
        using (var prefill = model.Forward(prompt, 0, cache))
            next = (int)prefill.argmax().item<long>();
        var prefillMs = clock.Elapsed.TotalMilliseconds;
        var rss = Status("VmRSS");
        clock.Restart();
        var logits = new float[model.Config.VocabSize];
        for (var i = 1; i < newTokens; i++)
        {
            model.Step(next, prompt.Length + i - 1, cache, logits);
            next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
        }
        return (prefillMs, clock.Elapsed.TotalMilliseconds, rss);
    }

    /// <summary>A memory figure of this process in MB: VmRSS (resident now) or VmHWM (its high-water mark).</summary>
    private static long Status(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }
}
