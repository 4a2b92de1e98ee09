using ChatBlazor.Inference.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Training;

/// <summary>
/// The Llama forward pass with autograd, for training: the same math as <see cref="LlamaModel.Forward"/> on whole
/// sequences (B, T), no cache. Its weights carry their Hugging Face names, so export is a plain write.
/// </summary>
public sealed class TrainableLlama : nn.Module<Tensor, Tensor>
{
    private readonly ModelShape _shape;
    private readonly Dictionary<string, Parameter> _weights = [];
    private readonly Rotary _rotary;

    public TrainableLlama(ModelShape shape) : base("llama")
    {
        _shape = shape;
        foreach (var (name, dims, isNorm) in shape.Tensors())
        {
            var parameter = new Parameter(isNorm ? ones(dims) : randn(dims) * 0.02f);
            _weights[name] = parameter;
            register_parameter(name.Replace('.', '_'), parameter); // registered names may not contain dots
        }
        _rotary = new Rotary(Config(shape), CPU);
    }

    public IReadOnlyDictionary<string, Parameter> Weights => _weights;

    /// <summary>ids (B, T) → logits (B, T, V), each row one sequence from position 0.</summary>
    public override Tensor forward(Tensor ids) => Forward(ids, arange(ids.shape[1]).expand(ids.shape[0], -1), mask: null);

    /// <summary>
    /// ids (B, T) → logits (B, T, V) for rows that pack several sequences: <paramref name="positions"/> (B, T) restart
    /// at 0 where each sequence starts, and <paramref name="mask"/> (B, 1, T, T, true = may attend) keeps every
    /// sequence to its own earlier tokens, so a packed sequence trains exactly as it would alone. A null mask is causal.
    /// </summary>
    public Tensor Forward(Tensor ids, Tensor positions, Tensor? mask) => Logits(Hidden(ids, positions, mask));

    /// <summary>The final-normed hidden states (B, T, E) that <see cref="Logits"/> turns into logits.</summary>
    public Tensor Hidden(Tensor ids, Tensor positions, Tensor? mask)
    {
        var (b, t) = (ids.shape[0], ids.shape[1]);
        var (h, k, d) = (_shape.Heads, _shape.KvHeads, _shape.HeadDim);
        var (cos, sin) = _rotary.Angles(positions.reshape(-1));                                       // (B·T, D)
        (cos, sin) = (cos.view(b, 1, t, d), sin.view(b, 1, t, d));
        var x = W("model.embed_tokens.weight")[ids];                                                   // (B, T, E)
        for (var i = 0; i < _shape.Layers; i++)
        {
            var p = $"model.layers.{i}";
            var n = Norm(x, W($"{p}.input_layernorm.weight"));
            var q = Rotary.Apply(n.matmul(W($"{p}.self_attn.q_proj.weight").t()).view(b, t, h, d).transpose(1, 2), cos, sin); // (B, H, T, D)
            var key = Rotary.Apply(n.matmul(W($"{p}.self_attn.k_proj.weight").t()).view(b, t, k, d).transpose(1, 2), cos, sin);
            var value = n.matmul(W($"{p}.self_attn.v_proj.weight").t()).view(b, t, k, d).transpose(1, 2);
            if (h != k)
                (key, value) = (key.repeat_interleave(h / k, 1), value.repeat_interleave(h / k, 1));
            var attended = mask is null                                                                // (B, H, T, D)
                ? nn.functional.scaled_dot_product_attention(q, key, value, is_casual: true)
                : nn.functional.scaled_dot_product_attention(q, key, value, mask);
            x = x + attended.transpose(1, 2).reshape(b, t, h * d).matmul(W($"{p}.self_attn.o_proj.weight").t());
            n = Norm(x, W($"{p}.post_attention_layernorm.weight"));
            var gate = nn.functional.silu(n.matmul(W($"{p}.mlp.gate_proj.weight").t()));
            x = x + (gate * n.matmul(W($"{p}.mlp.up_proj.weight").t())).matmul(W($"{p}.mlp.down_proj.weight").t());
        }
        return Norm(x, W("model.norm.weight"));
    }

    /// <summary>Hidden states (…, E) → logits (…, V).</summary>
    public Tensor Logits(Tensor hidden) => hidden.matmul((_shape.Tied ? W("model.embed_tokens.weight") : W("lm_head.weight")).t());

    private Tensor W(string name) => _weights[name];

    private static Tensor Norm(Tensor x, Tensor weight) => x * (x.pow(2).mean([-1], keepdim: true) + 1e-5).rsqrt() * weight;

    internal static ModelConfig Config(ModelShape s) => new("llama", s.Vocab, s.Hidden, s.Intermediate, s.Layers, s.Heads, s.KvHeads,
        s.HeadDim, 1e-5, s.RopeTheta, null, s.MaxPositions, s.Tied, false, [], null);
}
