using System.Text.Json;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// The size of a Llama-family model we create ourselves (random weights for benchmarks, or trained), and how it is
/// written as a Hugging Face folder.
/// </summary>
public sealed record ModelShape(int Vocab, int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, double RopeTheta, bool Tied, int MaxPositions)
{
    public int HeadDim => Hidden / Heads;

    /// <summary>Every weight by its Hugging Face name and shape; norms start at one, everything else random.</summary>
    public IEnumerable<(string Name, long[] Shape, bool IsNorm)> Tensors()
    {
        yield return ("model.embed_tokens.weight", [Vocab, Hidden], false);
        for (var i = 0; i < Layers; i++)
        {
            var prefix = $"model.layers.{i}";
            yield return ($"{prefix}.input_layernorm.weight", [Hidden], true);
            yield return ($"{prefix}.self_attn.q_proj.weight", [Heads * HeadDim, Hidden], false);
            yield return ($"{prefix}.self_attn.k_proj.weight", [KvHeads * HeadDim, Hidden], false);
            yield return ($"{prefix}.self_attn.v_proj.weight", [KvHeads * HeadDim, Hidden], false);
            yield return ($"{prefix}.self_attn.o_proj.weight", [Hidden, Heads * HeadDim], false);
            yield return ($"{prefix}.post_attention_layernorm.weight", [Hidden], true);
            yield return ($"{prefix}.mlp.gate_proj.weight", [Intermediate, Hidden], false);
            yield return ($"{prefix}.mlp.up_proj.weight", [Intermediate, Hidden], false);
            yield return ($"{prefix}.mlp.down_proj.weight", [Hidden, Intermediate], false);
        }
        yield return ("model.norm.weight", [Hidden], true);
        if (!Tied)
            yield return ("lm_head.weight", [Vocab, Hidden], false);
    }

    /// <summary>Writes config.json and generation_config.json (greedy by default).</summary>
    public void WriteConfig(string dir, ScalarType dtype, int bosTokenId, int eosTokenId)
    {
        var json = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["vocab_size"] = Vocab,
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["head_dim"] = HeadDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositions,
            ["tie_word_embeddings"] = Tied,
            ["bos_token_id"] = bosTokenId,
            ["eos_token_id"] = eosTokenId,
            ["torch_dtype"] = dtype == ScalarType.Float32 ? "float32" : "bfloat16",
        }, json));
        File.WriteAllText(Path.Combine(dir, "generation_config.json"),
            JsonSerializer.Serialize(new { bos_token_id = bosTokenId, eos_token_id = eosTokenId, do_sample = false }, json));
    }
}
