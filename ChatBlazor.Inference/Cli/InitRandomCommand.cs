using System.Text.Json;
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
    private sealed record Preset(int Vocab, int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, double RopeTheta, bool Tied, int MaxPositions);

    private static readonly Dictionary<string, Preset> Presets = new()
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

    private static void Write(string output, Preset p, ScalarType type)
    {
        var headDim = p.Hidden / p.Heads;
        var json = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(output, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["vocab_size"] = p.Vocab,
            ["hidden_size"] = p.Hidden,
            ["intermediate_size"] = p.Intermediate,
            ["num_hidden_layers"] = p.Layers,
            ["num_attention_heads"] = p.Heads,
            ["num_key_value_heads"] = p.KvHeads,
            ["head_dim"] = headDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = p.RopeTheta,
            ["max_position_embeddings"] = p.MaxPositions,
            ["tie_word_embeddings"] = p.Tied,
            // The special tokens take the last ids (see WriteTokenizer): <|endoftext|>, <|im_start|>, <|im_end|>.
            ["bos_token_id"] = p.Vocab - 3,
            ["eos_token_id"] = p.Vocab - 1,
            ["torch_dtype"] = type == ScalarType.Float32 ? "float32" : "bfloat16",
        }, json));
        File.WriteAllText(Path.Combine(output, "generation_config.json"),
            JsonSerializer.Serialize(new { bos_token_id = p.Vocab - 3, eos_token_id = p.Vocab - 1, do_sample = false }, json));

        using var scope = NewDisposeScope();
        Tensor Random(params long[] shape) => (randn(shape) * 0.02f).to(type);
        var tensors = new List<(string, Tensor)> { ("model.embed_tokens.weight", Random(p.Vocab, p.Hidden)) };
        for (var i = 0; i < p.Layers; i++)
        {
            var prefix = $"model.layers.{i}";
            tensors.Add(($"{prefix}.input_layernorm.weight", ones(p.Hidden).to(type)));
            tensors.Add(($"{prefix}.self_attn.q_proj.weight", Random(p.Heads * headDim, p.Hidden)));
            tensors.Add(($"{prefix}.self_attn.k_proj.weight", Random(p.KvHeads * headDim, p.Hidden)));
            tensors.Add(($"{prefix}.self_attn.v_proj.weight", Random(p.KvHeads * headDim, p.Hidden)));
            tensors.Add(($"{prefix}.self_attn.o_proj.weight", Random(p.Hidden, p.Heads * headDim)));
            tensors.Add(($"{prefix}.post_attention_layernorm.weight", ones(p.Hidden).to(type)));
            tensors.Add(($"{prefix}.mlp.gate_proj.weight", Random(p.Intermediate, p.Hidden)));
            tensors.Add(($"{prefix}.mlp.up_proj.weight", Random(p.Intermediate, p.Hidden)));
            tensors.Add(($"{prefix}.mlp.down_proj.weight", Random(p.Hidden, p.Intermediate)));
        }
        tensors.Add(("model.norm.weight", ones(p.Hidden).to(type)));
        if (!p.Tied)
            tensors.Add(("lm_head.weight", Random(p.Vocab, p.Hidden)));
        SafeTensorsWriter.Write(Path.Combine(output, "model.safetensors"), tensors);

        WriteTokenizer(output, p.Vocab);
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
        File.WriteAllText(Path.Combine(output, "tokenizer_config.json"), JsonSerializer.Serialize(new
        {
            bos_token = SpecialTokens[0],
            eos_token = SpecialTokens[2],
            chat_template = ChatMlTemplate,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    private const string ChatMlTemplate =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
}
