using System.Text.Json;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Inference.Tokenization;
using ChatBlazor.Inference.Training;
using ChatBlazor.Inference.Training.Data;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// Regenerates the training data, trains a byte-level BPE tokenizer on it, trains the model, writes a Hugging Face
/// folder and evaluates it on held-out phrasings: everything our default model is, from one command.
/// </summary>
internal static class TrainCommand
{
    internal sealed record TrainConfig(ModelShape Shape, TrainingSettings Training, DataMix Data, DataMix Eval, string Dtype = "bf16", string? WordNetDir = "/usr/share/wordnet", string? UserGuide = null);

    public static async Task<int> RunAsync(Args args)
    {
        var configPath = args.Required("config");
        var output = args.Required("out");
        var seed = args.Int("seed") ?? 0;
        var config = LoadConfig(configPath);
        var dtype = config.Dtype switch { "f32" => ScalarType.Float32, "bf16" => ScalarType.BFloat16, _ => throw new UsageException("dtype must be f32 or bf16") };
        KeepFreedMemoryInProcess();
        var guide = config.UserGuide is null ? null : Path.GetFullPath(config.UserGuide, Path.GetDirectoryName(Path.GetFullPath(configPath))!);
        Directory.CreateDirectory(output);

        Console.Error.WriteLine("generating data…");
        var examples = TrainingData.Generate(config.Data, seed, eval: false, config.WordNetDir, guide);

        Console.Error.WriteLine($"training a {config.Shape.Vocab}-token BPE vocabulary on {examples.Count} conversations…");
        var specials = InitRandomCommand.SpecialTokens;
        var merges = BpeTrainer.Train(examples.SelectMany(e => new[] { e.User, e.Assistant }), config.Shape.Vocab, specials);
        TokenizerJson.WriteByteLevel(Path.Combine(output, "tokenizer.json"), merges, specials);
        InitRandomCommand.WriteTokenizerConfig(output);
        var tokenizer = Tokenizer.Load(Path.Combine(output, "tokenizer.json"));
        var template = ChatTemplate.FromTokenizerConfig(Path.Combine(output, "tokenizer_config.json"));
        var shape = config.Shape with { Vocab = tokenizer.VocabSize }; // fewer when the corpus ran out of pairs

        var training = examples.Select(e =>
        {
            ChatMessage user = new("user", e.User);
            var prompt = tokenizer.Encode(template.Render([user], addGenerationPrompt: true));
            var full = tokenizer.Encode(template.Render([user, new ChatMessage("assistant", e.Assistant)], addGenerationPrompt: false));
            return new TrainingExample([.. full], prompt.Count);
        }).ToArray();
        var lengths = training.Select(t => t.Tokens.Length).ToArray();
        var cut = lengths.Count(l => l - 1 > config.Training.SequenceLength);
        Console.Error.WriteLine($"{lengths.Sum():N0} tokens in {training.Length:N0} conversations (mean {lengths.Average():F0}, longest {lengths.Max()}, {cut} longer than the sequence length and cut); "
            + $"{(double)config.Training.Steps * config.Training.BatchSize * config.Training.SequenceLength / lengths.Sum():F2} epochs at most");

        var trainer = new Trainer(config.Training with { Shape = shape }, Path.Combine(output, "checkpoints"), seed);
        trainer.Train(training, Progress);
        Console.Error.WriteLine();
        var bos = tokenizer.TokenToId(specials[0])!.Value;
        var eos = tokenizer.TokenToId(specials[2])!.Value;
        Trainer.Export(trainer.Model!, shape, output, dtype, bos, eos);

        await EvaluateToFilesAsync(output, config, seed, guide);
        return 0;
    }

    /// <summary>
    /// <c>eval --model DIR --config FILE [--seed S]</c>: the held-out evaluation of a trained folder, as
    /// <c>train</c> runs it at the end (same config, same training seed), written beside the model again.
    /// </summary>
    public static async Task<int> EvalAsync(Args args)
    {
        var configPath = args.Required("config");
        var config = LoadConfig(configPath);
        var guide = config.UserGuide is null ? null : Path.GetFullPath(config.UserGuide, Path.GetDirectoryName(Path.GetFullPath(configPath))!);
        await EvaluateToFilesAsync(args.Required("model"), config, args.Int("seed") ?? 0, guide);
        return 0;
    }

    /// <summary>eval.json (per category) and eval-answers.jsonl (every question, the reference, the reply, the verdict).</summary>
    private static async Task EvaluateToFilesAsync(string modelDir, TrainConfig config, int seed, string? guide)
    {
        Console.Error.WriteLine("evaluating on held-out phrasings…");
        var eval = TrainingData.Generate(config.Eval with { DefinitionWords = config.Data.DefinitionWords }, seed + 1, eval: true, config.WordNetDir, guide);
        var (report, answers) = await EvaluateAsync(LoadedModel.Load(modelDir), eval);
        File.WriteAllText(Path.Combine(modelDir, "eval.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllLines(Path.Combine(modelDir, "eval-answers.jsonl"), answers.Select(a => JsonSerializer.Serialize(a)));
        Console.WriteLine(JsonSerializer.Serialize(report));
    }

    /// <summary>
    /// Every step allocates and frees the same large tensors (the logits alone are tens of MB). glibc serves blocks that
    /// large with mmap and unmaps them on free, so each step page-faults them in again: a third of the CPU time went to
    /// the kernel. Keeping freed memory in the heap removes most of that and trains ~10% faster (docs/benchmarks.md).
    /// </summary>
    private static void KeepFreedMemoryInProcess()
    {
        const int TrimThreshold = -1, MmapMax = -4; // glibc's M_TRIM_THRESHOLD, M_MMAP_MAX
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            _ = MallOpt(MmapMax, 0);
            _ = MallOpt(TrimThreshold, int.MaxValue);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: training works the same, only slower
        }
    }

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);

    /// <summary>The shape is written once in the file, at the top; the training settings get a copy of it.</summary>
    internal static TrainConfig LoadConfig(string path)
    {
        try
        {
            var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if (root["training"] is System.Text.Json.Nodes.JsonObject training && root["shape"] is { } shape)
                training["shape"] = shape.DeepClone();
            return root.Deserialize<TrainConfig>(new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
                ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static void Progress(TrainingProgress p)
    {
        const int width = 24;
        var filled = (int)((double)p.Step / p.Steps * width);
        Console.Error.Write($"\r[{new string('#', filled)}{new string('-', width - filled)}] step {p.Step}/{p.Steps}  loss {p.Loss:F3}  lr {p.LearningRate:E1}  {p.TokensPerSecond:N0} tok/s  ETA {p.Remaining:hh\\:mm\\:ss} ");
    }

    internal sealed record EvalAnswer(string Category, string Question, string Reference, string Reply, bool Correct, bool CleanEnding, bool CleanEndingWarm);

    /// <summary>
    /// Per category: share of correct answers at temperature 0, and of replies that end with the end-of-turn token
    /// within 256 tokens, at temperature 0 and at 0.7 (seeded per question). The questions run through the batching
    /// engine, 16 at a time; answers do not depend on the batch.
    /// </summary>
    internal static async Task<(Dictionary<string, object> Report, List<EvalAnswer> Answers)> EvaluateAsync(LoadedModel model, IReadOnlyList<ChatExample> eval)
    {
        using var engine = new InferenceEngine([model], new EngineOptions { MaxQueuedRequests = eval.Count });
        var answers = await Task.WhenAll(eval.Select(async (example, i) =>
        {
            var (text, finish) = await AnswerAsync(engine, model.Name, example.User, SamplingParams.Greedy);
            var (_, warmFinish) = await AnswerAsync(engine, model.Name, example.User, new SamplingParams { Temperature = 0.7, Seed = i });
            return new EvalAnswer(example.Category, example.User, example.Assistant, text, EvalJudge.IsCorrect(example, text),
                finish == FinishReason.Stop, warmFinish == FinishReason.Stop);
        }));
        var results = answers.GroupBy(a => a.Category).ToDictionary(g => g.Key, g => (object)new
        {
            count = g.Count(),
            accuracy = Math.Round(g.Average(a => a.Correct ? 1.0 : 0.0), 3),
            clean_endings = Math.Round(g.Average(a => a.CleanEnding ? 1.0 : 0.0), 3),
            clean_endings_t07 = Math.Round(g.Average(a => a.CleanEndingWarm ? 1.0 : 0.0), 3),
        });
        return (results, [.. answers]);
    }

    private static async Task<(string Text, FinishReason? Finish)> AnswerAsync(InferenceEngine engine, string model, string question, SamplingParams sampling)
    {
        var text = "";
        FinishReason? finish = null;
        var request = new CompletionRequest(model, sampling with { MaxTokens = 256 }, Messages: [new ChatMessage("user", question)]);
        await foreach (var chunk in engine.GenerateAsync(request))
            (text, finish) = (text + chunk.Text, chunk.FinishReason ?? finish);
        return (text.Trim(), finish);
    }
}
