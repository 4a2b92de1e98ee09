using System.Text.Json;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
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

        var trainer = new Trainer(config.Training with { Shape = shape }, Path.Combine(output, "checkpoints"), seed);
        trainer.Train(training, Progress);
        Console.Error.WriteLine();
        var bos = tokenizer.TokenToId(specials[0])!.Value;
        var eos = tokenizer.TokenToId(specials[2])!.Value;
        Trainer.Export(trainer.Model!, shape, output, dtype, bos, eos);

        Console.Error.WriteLine("evaluating on held-out phrasings…");
        var report = await EvaluateAsync(LoadedModel.Load(output), TrainingData.Generate(config.Eval, seed + 1, eval: true, config.WordNetDir, guide));
        File.WriteAllText(Path.Combine(output, "eval.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

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

    /// <summary>Per category: share of correct answers at temperature 0, and of replies that end with the end-of-turn token.</summary>
    internal static async Task<Dictionary<string, object>> EvaluateAsync(LoadedModel model, IReadOnlyList<ChatExample> eval)
    {
        var results = new Dictionary<string, object>();
        foreach (var category in eval.GroupBy(e => e.Category))
        {
            int correct = 0, clean = 0;
            foreach (var example in category)
            {
                var (text, finish) = await AnswerAsync(model, example.User);
                correct += EvalJudge.IsCorrect(example, text) ? 1 : 0;
                clean += finish == FinishReason.Stop ? 1 : 0;
            }
            results[category.Key] = new { count = category.Count(), accuracy = Math.Round((double)correct / category.Count(), 3), clean_endings = Math.Round((double)clean / category.Count(), 3) };
        }
        return results;
    }

    private static async Task<(string Text, FinishReason? Finish)> AnswerAsync(LoadedModel model, string question)
    {
        var text = "";
        FinishReason? finish = null;
        await foreach (var chunk in model.Generator.GenerateAsync(model.EncodeChat([new ChatMessage("user", question)]), SamplingParams.Greedy with { MaxTokens = 256 }))
            (text, finish) = (text + chunk.Text, chunk.FinishReason ?? finish);
        return (text.Trim(), finish);
    }
}
