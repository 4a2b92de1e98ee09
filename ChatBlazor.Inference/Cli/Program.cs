using ChatBlazor.Inference.Kernels;
using TorchSharp;

namespace ChatBlazor.Inference.Cli;

/// <summary>The engine's command-line face; tests and benchmarks use it. Exit codes: 2 bad arguments, 1 failure.</summary>
public static class Program
{
    private const string Usage = """
        usage: ChatBlazor.Inference <command> [options]
          logits      --model DIR --tokens 1,2,3 [--top 5]
          generate    --model DIR (--prompt TEXT | --tokens IDS | --chat TEXT) [--max-tokens N] [--temperature T]
                      [--top-p P] [--top-k K] [--seed S] [--stop TEXT]... [--ignore-eos] [--json] [--threads N] [--dtype f32|bf16|q8]
          init-random --preset tiny|smol135 --out DIR [--seed S] [--dtype f32|bf16]
          bench       --model DIR [--prompt-tokens 256] [--new-tokens 128] [--threads N] [--dtype f32|bf16|q8] [--kv-dtype f32|f16|bf16]
          perplexity  --model DIR [--dtype f32|bf16|q8] [--eval FILE (default DIR/eval-answers.jsonl)] [--by-step]
          agreement   --model DIR --dtype f32|bf16|q8 [--prompt-tokens 32] [--new-tokens 64] [--seed S]
          bench-turns --model DIR [--prompt-tokens 256] [--new-tokens 128] [--follow-up-tokens 32] [--kv-dtype f32|f16|bf16]
          train       --config FILE --out DIR [--seed S] [--threads N]
          eval        --model DIR --config FILE [--seed S]
          moderation-train --out FILE [--seed S] [--hidden N] [--epochs N] [--weight-decay W]
          moderation-eval  [--head FILE] [--seed S]
          serve       --model NAME=DIR[:f32|:bf16|:q8] [--model ...]... [--dtype f32|bf16|q8] --urls http(s)://127.0.0.1:8000
                      [--max-running N] [--max-queued N] [--kv-dtype f16|bf16|f32 (default f16)]
                      (weights: as the model's :TYPE says, else --dtype, else as stored)
                      [--metrics-allow CIDR,...] [--api-key-file PATH] [--ops-urls http://HOST:PORT] [--tls-cert PEM --tls-key PEM]
                      (the key: --api-key-file, else CHATBLAZOR_INFERENCE_API_KEY; none: anyone who reaches --urls may use it)
          loadgen     (--url http://HOST:PORT | --model-dir DIR) [--model NAME] [--endpoint completions|chat] [--num-prompts 100]
                      [--input-len 256] [--output-len 128] [--random-range-ratio 0] [--concurrency 8 | --request-rate R]
                      [--seed 0] [--timeout-s 600] [--json] [--dtype f32|bf16|q8 (with --model-dir)]
        """;

    public static async Task<int> Main(string[] argv)
    {
        try
        {
            if (argv.Length == 0 || argv[0] is "-h" or "--help")
                throw new UsageException("a command is required");
            var args = new Args(argv[1..]);
            if (args.Int("threads") is { } threads)
            {
                torch.set_num_threads(threads);
                KernelThreads.Count = threads;
            }
            return argv[0] switch
            {
                "logits" => LogitsCommand.Run(args),
                "generate" => await GenerateCommand.RunAsync(args),
                "init-random" => InitRandomCommand.Run(args),
                "bench" => BenchCommand.Run(args),
                "perplexity" => AccuracyCommand.Perplexity(args),
                "agreement" => AccuracyCommand.Agreement(args),
                "bench-turns" => await TurnsCommand.RunAsync(args),
                "loadgen" => await LoadgenCommand.RunAsync(args),
                "serve" => await ServeCommand.RunAsync(args),
                "train" => await TrainCommand.RunAsync(args),
                "eval" => await TrainCommand.EvalAsync(args),
                "moderation-train" => ModerationCommand.Train(args),
                "moderation-eval" => ModerationCommand.Eval(args),
                var other => throw new UsageException($"unknown command '{other}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}

internal sealed class UsageException(string message) : Exception(message);

/// <summary><c>--name value</c> options and <c>--flag</c> switches; an option may repeat.</summary>
internal sealed class Args
{
    private static readonly HashSet<string> Flags = ["ignore-eos", "json", "by-step"];
    private readonly Dictionary<string, List<string>> _values = [];

    public Args(string[] argv)
    {
        for (var i = 0; i < argv.Length; i++)
        {
            if (!argv[i].StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"unexpected argument '{argv[i]}'");
            var name = argv[i][2..];
            if (Flags.Contains(name))
            {
                _values[name] = ["true"];
                continue;
            }
            if (i + 1 >= argv.Length)
                throw new UsageException($"--{name} needs a value");
            (_values.TryGetValue(name, out var list) ? list : _values[name] = []).Add(argv[++i]);
        }
    }

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var v) ? v : [];

    public string Required(string name) => String(name) ?? throw new UsageException($"--{name} is required");

    public bool Flag(string name) => _values.ContainsKey(name);

    public int? Int(string name) => String(name) is { } s
        ? int.TryParse(s, out var i) ? i : throw new UsageException($"--{name} must be an integer, got '{s}'")
        : null;

    public double? Double(string name) => String(name) is { } s
        ? double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : throw new UsageException($"--{name} must be a number, got '{s}'")
        : null;

    public int[]? Tokens(string name) => String(name) is { } s
        ? s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => int.TryParse(t, out var id) ? id : throw new UsageException($"--{name} must be comma-separated token ids, got '{t}'")).ToArray()
        : null;
}
