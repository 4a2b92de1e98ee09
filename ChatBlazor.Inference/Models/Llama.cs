using ChatBlazor.Inference.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

// The Llama family (Llama 2/3, Mistral, Qwen2, SmolLM) in one file, in the order data flows through it.
// Shapes in comments: T tokens, H query heads, K key/value heads, D head size, E hidden size.

/// <summary>y = x / rms(x) * weight, computed in F32 whatever the weights' type.</summary>
public sealed class RmsNorm(Tensor weight, double eps)
{
    private readonly Tensor _weight = weight.to(ScalarType.Float32);

    public Tensor Forward(Tensor x) => x * (x.pow(2).mean([-1], keepdim: true) + eps).rsqrt() * _weight;
}

/// <summary>
/// Rotary position embedding, Hugging Face's rotate-half convention: the head is split into two halves that are
/// rotated as (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin), frequency i shared by element i and i + D/2.
/// </summary>
public sealed class Rotary
{
    private readonly Tensor _inverseFrequencies; // (D/2)

    public Rotary(ModelConfig config, Device device)
    {
        var half = config.HeadDim / 2;
        var frequencies = new float[half];
        for (var i = 0; i < half; i++)
            frequencies[i] = (float)ScaleLlama3(1.0 / Math.Pow(config.RopeTheta, 2.0 * i / config.HeadDim), config.RopeScaling);
        _inverseFrequencies = tensor(frequencies, device: device);
    }

    /// <summary>Llama 3 stretches low frequencies by the factor, keeps high ones, and blends in between.</summary>
    private static double ScaleLlama3(double frequency, Llama3RopeScaling? scaling)
    {
        if (scaling is null)
            return frequency;
        var wavelength = 2 * Math.PI / frequency;
        var lowFrequencyWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.LowFreqFactor;
        var highFrequencyWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.HighFreqFactor;
        if (wavelength < highFrequencyWavelength)
            return frequency;
        if (wavelength > lowFrequencyWavelength)
            return frequency / scaling.Factor;
        var smooth = (scaling.OriginalMaxPositionEmbeddings / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
        return (1 - smooth) * frequency / scaling.Factor + smooth * frequency;
    }

    /// <summary>cos and sin for the given positions, each (T, D).</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions)
    {
        var angles = positions.to(ScalarType.Float32).unsqueeze(1) * _inverseFrequencies.unsqueeze(0); // (T, D/2)
        var both = cat([angles, angles], -1);
        return (both.cos(), both.sin());
    }

    /// <summary>x: (heads, T, D).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * cos + rotated * sin;
    }
}

public sealed class Attention
{
    private readonly ModelConfig _config;
    private readonly Linear _q, _k, _v, _o;

    public Attention(ModelConfig c, SafeTensors weights, string prefix, Device device)
    {
        _config = c;
        Tensor? Bias(string name, long size) => c.AttentionBias ? weights.Load($"{prefix}.{name}.bias", [size]) : null;
        _q = new Linear(weights.Load($"{prefix}.q_proj.weight", [c.NumHeads * c.HeadDim, c.HiddenSize]), Bias("q_proj", c.NumHeads * c.HeadDim), device);
        _k = new Linear(weights.Load($"{prefix}.k_proj.weight", [c.NumKvHeads * c.HeadDim, c.HiddenSize]), Bias("k_proj", c.NumKvHeads * c.HeadDim), device);
        _v = new Linear(weights.Load($"{prefix}.v_proj.weight", [c.NumKvHeads * c.HeadDim, c.HiddenSize]), Bias("v_proj", c.NumKvHeads * c.HeadDim), device);
        _o = new Linear(weights.Load($"{prefix}.o_proj.weight", [c.HiddenSize, c.NumHeads * c.HeadDim]), null, device);
    }

    /// <summary>x: (T, E) at positions start..start+T-1; appends this chunk's keys and values to the cache.</summary>
    public Tensor Forward(Tensor x, int layer, KvCache cache, int start, Tensor cos, Tensor sin)
    {
        var (t, d, kvHeads) = (x.shape[0], _config.HeadDim, _config.NumKvHeads);
        var group = _config.NumHeads / kvHeads;
        var q = Rotary.Apply(_q.Forward(x).view(t, _config.NumHeads, d).transpose(0, 1), cos, sin); // (H, T, D)
        var k = Rotary.Apply(_k.Forward(x).view(t, kvHeads, d).transpose(0, 1), cos, sin);          // (K, T, D)
        var v = _v.Forward(x).view(t, kvHeads, d).transpose(0, 1);                                    // (K, T, D)
        var (keys, values) = cache.Append(layer, start, k, v);                                        // (K, L, D)

        // Grouped-query attention without copying keys: the G query heads that share a key head attend together.
        var queries = q.reshape(kvHeads, group * t, d);                                               // (K, G*T, D)
        var scores = queries.matmul(keys.transpose(1, 2)) * (1.0 / Math.Sqrt(d));                     // (K, G*T, L)
        if (t > 1)
            scores = scores.masked_fill(CausalMask(t, start, keys.shape[1], x.device).repeat(group, 1), float.NegativeInfinity);
        var attended = scores.softmax(-1).matmul(values);                                             // (K, G*T, D)
        return _o.Forward(attended.view(_config.NumHeads, t, d).transpose(0, 1).reshape(t, _config.NumHeads * d));
    }

    /// <summary>True where query i (at position start+i) must not see key j.</summary>
    private static Tensor CausalMask(long t, int start, long length, Device device) =>
        arange(length, device: device).unsqueeze(0) > (arange(t, device: device) + start).unsqueeze(1);
}

/// <summary>SwiGLU: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp(ModelConfig c, SafeTensors weights, string prefix, Device device)
{
    private readonly Linear _gate = new(weights.Load($"{prefix}.gate_proj.weight", [c.IntermediateSize, c.HiddenSize]), null, device);
    private readonly Linear _up = new(weights.Load($"{prefix}.up_proj.weight", [c.IntermediateSize, c.HiddenSize]), null, device);
    private readonly Linear _down = new(weights.Load($"{prefix}.down_proj.weight", [c.HiddenSize, c.IntermediateSize]), null, device);

    public Tensor Forward(Tensor x) => _down.Forward(nn.functional.silu(_gate.Forward(x)) * _up.Forward(x));
}

public sealed class Block(ModelConfig c, SafeTensors weights, int index, Device device)
{
    private readonly RmsNorm _attentionNorm = new(weights.Load($"model.layers.{index}.input_layernorm.weight", [c.HiddenSize]).to(device), c.RmsNormEps);
    private readonly Attention _attention = new(c, weights, $"model.layers.{index}.self_attn", device);
    private readonly RmsNorm _mlpNorm = new(weights.Load($"model.layers.{index}.post_attention_layernorm.weight", [c.HiddenSize]).to(device), c.RmsNormEps);
    private readonly Mlp _mlp = new(c, weights, $"model.layers.{index}.mlp", device);

    public Tensor Forward(Tensor x, KvCache cache, int start, Tensor cos, Tensor sin)
    {
        x = x + _attention.Forward(_attentionNorm.Forward(x), index, cache, start, cos, sin);
        return x + _mlp.Forward(_mlpNorm.Forward(x));
    }
}

/// <summary>
/// The weights of a Llama-family model, shared by every sequence. Per-sequence state lives in a
/// <see cref="KvCache"/>, so one model serves many conversations.
/// </summary>
public sealed class LlamaModel
{
    private readonly Tensor _embedding; // (V, E) as stored
    private readonly Block[] _blocks;
    private readonly RmsNorm _norm;
    private readonly Linear _lmHead;
    private readonly Rotary _rotary;

    public LlamaModel(ModelConfig config, SafeTensors weights, Device device)
    {
        Config = config;
        Device = device;
        using var _ = inference_mode();
        _embedding = weights.Load("model.embed_tokens.weight", [config.VocabSize, config.HiddenSize]).to(device);
        _blocks = Enumerable.Range(0, config.NumLayers).Select(i => new Block(config, weights, i, device)).ToArray();
        _norm = new RmsNorm(weights.Load("model.norm.weight", [config.HiddenSize]).to(device), config.RmsNormEps);
        _lmHead = config.TieWordEmbeddings && !weights.Contains("lm_head.weight")
            ? new Linear(_embedding, null, device)
            : new Linear(weights.Load("lm_head.weight", [config.VocabSize, config.HiddenSize]), null, device);
        _rotary = new Rotary(config, device);
    }

    public ModelConfig Config { get; }

    public Device Device { get; }

    public static LlamaModel Load(string modelDir, Device? device = null) =>
        new(ModelConfig.Load(Path.Combine(modelDir, "config.json")), SafeTensors.Open(modelDir), device ?? CPU);

    /// <summary>
    /// Runs the tokens at positions start..start+T-1 of a sequence whose first <paramref name="start"/> tokens are
    /// already in <paramref name="cache"/>. Returns F32 logits (T, V), or (1, V) for the last token only.
    /// </summary>
    public Tensor Forward(ReadOnlySpan<int> tokens, int start, KvCache cache, bool lastOnly = true)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var ids = tensor(tokens.ToArray(), ScalarType.Int32, device: Device);
        var x = _embedding.index_select(0, ids).to(ScalarType.Float32);                                 // (T, E)
        var (cos, sin) = _rotary.Angles(arange(start, start + tokens.Length, device: Device));
        foreach (var block in _blocks)
            x = block.Forward(x, cache, start, cos, sin);
        if (lastOnly)
            x = x.narrow(0, tokens.Length - 1, 1);
        return _lmHead.Forward(_norm.Forward(x)).MoveToOuterDisposeScope();                             // (T or 1, V)
    }
}
