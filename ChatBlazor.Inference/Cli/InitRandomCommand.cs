using System.Text.Json;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Tokenization;
using ChatBlazor.Inference.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// Writes a Hugging Face-format model folder with random weights (and a byte-level tokenizer), for tests and
/// benchmarks that need a model of a real shape but no real weights.
/// </summary>
internal static class InitRandomCommand
{
    private static readonly Dictionary<string, ModelShape> Presets = new()
    {
        ["tiny"] = new(Vocab: 512, Hidden: 64, Intermediate: 192, Layers: 2, Heads: 4, KvHeads: 2, RopeTheta: 10000, Tied: true, MaxPositions: 2048),
        // The shape of SmolLM2-135M.
        ["smol135"] = new(Vocab: 49152, Hidden: 576, Intermediate: 1536, Layers: 30, Heads: 9, KvHeads: 3, RopeTheta: 100000, Tied: true, MaxPositions: 8192),
    };

    internal static readonly string[] SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    public static int Run(Args args)
    {
        var name = args.Required("preset");
        var preset = Presets.GetValueOrDefault(name) ?? throw new UsageException($"--preset must be one of: {string.Join(", ", Presets.Keys)}");
        var dtype = args.String("dtype") ?? "f32";
        var type = dtype switch
        {
            "f32" => ScalarType.Float32,
            "bf16" => ScalarType.BFloat16,
            _ => throw new UsageException("--dtype must be f32 or bf16"),
        };
        var output = args.Required("out");
        Directory.CreateDirectory(output);
        random.manual_seed(args.Int("seed") ?? 0);

        Write(output, preset, type);
        Console.WriteLine($"wrote {name} ({dtype}) to {output}");
        return 0;
    }

    private static void Write(string output, ModelShape shape, ScalarType type)
    {
        // The special tokens take the last ids (see WriteTokenizer): <|endoftext|>, <|im_start|>, <|im_end|>.
        shape.WriteConfig(output, type, bosTokenId: shape.Vocab - 3, eosTokenId: shape.Vocab - 1);
        using var scope = NewDisposeScope();
        var tensors = shape.Tensors().Select(t => (t.Name, (t.IsNorm ? ones(t.Shape) : randn(t.Shape) * 0.02f).to(type))).ToList();
        SafeTensorsWriter.Write(Path.Combine(output, "model.safetensors"), tensors);
        WriteTokenizer(output, shape.Vocab);
    }

    /// <summary>
    /// A byte-level BPE tokenizer filling the vocabulary: the 256 bytes, merges of byte pairs (printable ASCII
    /// first, so ordinary text merges), then the special tokens, which take the last ids.
    /// </summary>
    private static void WriteTokenizer(string output, int vocab)
    {
        var bytes = Enumerable.Range(32, 95).Concat(Enumerable.Range(0, 32)).Concat(Enumerable.Range(127, 129)).ToArray();
        var merges = (from left in bytes from right in bytes select (ByteLevelAlphabet.ByteToChar[left].ToString(), ByteLevelAlphabet.ByteToChar[right].ToString()))
            .Take(vocab - 256 - SpecialTokens.Length).ToArray();
        TokenizerJson.WriteByteLevel(Path.Combine(output, "tokenizer.json"), merges, SpecialTokens);
        WriteTokenizerConfig(output);
    }

    /// <summary>tokenizer_config.json for our ChatML models: <|endoftext|> begins, <|im_end|> ends a turn.</summary>
    internal static void WriteTokenizerConfig(string output) =>
        File.WriteAllText(Path.Combine(output, "tokenizer_config.json"), JsonSerializer.Serialize(new
        {
            bos_token = SpecialTokens[0],
            eos_token = SpecialTokens[2],
            chat_template = Chat.ChatTemplate.ChatMlSource,
        }, new JsonSerializerOptions { WriteIndented = true }));
}
