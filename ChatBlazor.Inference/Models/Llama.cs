using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

// The Llama family (Llama 2/3, Mistral, Qwen2, SmolLM) in one file, in the order data flows through it.
// Shapes in comments: T tokens, H query heads, K key/value heads, D head size, E hidden size.

// Every module has two paths: Forward runs TorchSharp operations on any number of tokens and any device (prefill,
// CUDA); Step runs one token per sequence on raw CPU memory with our kernels (decoding), where the cost of ~2,000
// small LibTorch calls per token would otherwise exceed the cost of reading the weights.

/// <summary>
/// Scalars that live as long as the process. TorchSharp turns a number operand (<c>x + 1e-6</c>, and the implicit
/// alpha of <c>a + b</c>) into a temporary Scalar whose finalizer frees its native copy; nothing keeps it alive during
/// the native call, so a garbage collection at that moment hands LibTorch a freed scalar ("toFloat: Expected false to
/// be true", seen under load). Forward passes these instead.
/// </summary>
internal static class TorchOperands
{
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();

    /// <summary>from, from+1, …, from+count-1 as Int64, without arange's temporary Scalars.</summary>
    public static Tensor Range(long from, long count, Device device)
    {
        var values = new long[count];
        for (var i = 0; i < count; i++)
            values[i] = from + i;
        return tensor(values, device: device);
    }
}

/// <summary>y = x / rms(x) * weight, computed in F32 whatever the weights' type.</summary>
public sealed unsafe class RmsNorm(Tensor weight, double eps)
{
    private readonly Tensor _weight = weight.to(ScalarType.Float32);
    private readonly Scalar _eps = eps.ToScalar(); // held for the module's life: see TorchOperands
    private float[]? _stepWeight; // a managed copy for Step: a few hundred floats, read every token

    public Tensor Forward(Tensor x)
    {
        if (x.device_type != DeviceType.CPU)
            return x * x.pow(TorchOperands.Two).mean([-1], keepdim: true).add(_eps, TorchOperands.One).rsqrt() * _weight;
        // On the CPU row by row with Step's own arithmetic: six LibTorch operations per norm cost more than the norm.
        using var input = x.contiguous();
        var y = empty_like(input);
        var (rows, e) = ((int)input.shape[0], (int)input.shape[1]);
        float* xs = TensorMemory.Pointer<float>(input), ys = TensorMemory.Pointer<float>(y);
        for (var r = 0; r < rows; r++)
            Step(new ReadOnlySpan<float>(xs + (long)r * e, e), new Span<float>(ys + (long)r * e, e));
        return y;
    }

    public void Step(ReadOnlySpan<float> x, Span<float> y)
    {
        var scale = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / x.Length + (float)eps);
        TensorPrimitives.Multiply(x, scale, y);
        TensorPrimitives.Multiply(y, _stepWeight ??= _weight.cpu().data<float>().ToArray(), y);
    }
}

/// <summary>
/// Rotary position embedding, Hugging Face's rotate-half convention: the head is split into two halves that are
/// rotated as (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin), frequency i shared by element i and i + D/2.
/// </summary>
public sealed unsafe class Rotary
{
    private readonly Tensor _inverseFrequencies; // (D/2)
    private readonly float[] _frequencies;       // the same, for Step

    public Rotary(ModelConfig config, Device device)
    {
        var half = config.HeadDim / 2;
        var frequencies = new float[half];
        for (var i = 0; i < half; i++)
            frequencies[i] = (float)ScaleLlama3(1.0 / Math.Pow(config.RopeTheta, 2.0 * i / config.HeadDim), config.RopeScaling);
        _inverseFrequencies = tensor(frequencies, device: device);
        _frequencies = frequencies;
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
        return (x * cos).add(rotated * sin, TorchOperands.One);
    }

    /// <summary>
    /// Rotates, in place, the first <paramref name="heads"/> heads of each of T rows of x (row stride
    /// <paramref name="stride"/>), row t by angles cos, sin (T, D) as <see cref="Angles"/> gives them, and scales
    /// them by <paramref name="scale"/>: prefill's queries and keys, on the CPU.
    /// </summary>
    public static void ApplyRows(float* x, int rows, int stride, int heads, int headDim, float* cos, float* sin, float scale)
    {
        var half = headDim / 2;
        for (var t = 0; t < rows; t++)
        {
            var row = new Span<float>(x + (long)t * stride, heads * headDim);
            StepApply(row, headDim, new ReadOnlySpan<float>(cos + (long)t * headDim, half), new ReadOnlySpan<float>(sin + (long)t * headDim, half));
            if (scale != 1)
                TensorPrimitives.Multiply(row, scale, row);
        }
    }

    /// <summary>cos and sin of one position's angles, D/2 each (both halves of a head share them).</summary>
    public void StepAngles(int position, Span<float> cos, Span<float> sin)
    {
        for (var i = 0; i < cos.Length; i++)
        {
            var angle = position * _frequencies[i];
            (cos[i], sin[i]) = (MathF.Cos(angle), MathF.Sin(angle));
        }
    }

    /// <summary>Rotates each head of x (heads × D) in place.</summary>
    public static void StepApply(Span<float> x, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        var half = headDim / 2;
        for (var head = 0; head < x.Length; head += headDim)
            for (var i = 0; i < half; i++)
            {
                var (x1, x2) = (x[head + i], x[head + half + i]);
                x[head + i] = x1 * cos[i] - x2 * sin[i];
                x[head + half + i] = x2 * cos[i] + x1 * sin[i];
            }
    }
}

public sealed unsafe class Attention
{
    private readonly ModelConfig _config;
    private readonly Linear _qkv, _o; // q, k and v projections stacked into one matrix: one product instead of three

    public Attention(ModelConfig c, SafeTensors weights, string prefix, Device device, WeightType type = WeightType.Stored)
    {
        _config = c;
        var (q, kv) = (c.NumHeads * c.HeadDim, c.NumKvHeads * c.HeadDim);
        _qkv = Linear.Stacked(weights, [($"{prefix}.q_proj", q), ($"{prefix}.k_proj", kv), ($"{prefix}.v_proj", kv)], c.HiddenSize, c.AttentionBias, device, type);
        _o = new Linear(weights.Load($"{prefix}.o_proj.weight", [c.HiddenSize, q]), null, device, type);
    }

    /// <summary>x: (T, E) at positions start..start+T-1; appends this chunk's keys and values to the cache.</summary>
    public Tensor Forward(Tensor x, int layer, KvCache cache, int start, Tensor cos, Tensor sin)
    {
        var (t, d, heads, kvHeads) = (x.shape[0], _config.HeadDim, _config.NumHeads, _config.NumKvHeads);
        var qkv = _qkv.Forward(x);                                                                    // (T, (H+2K)*D)
        // (n, T, D): n heads of the stacked projection, from its column `from` on.
        Tensor Heads(int from, int n) => qkv.narrow(1, from, n * d).view(t, n, d).transpose(0, 1);
        // A block holds every layer, so blocks shared with another sequence are made private once, before layer 0 writes.
        if (layer == 0)
            cache.PrepareWrite(start, start + (int)t);

        if (x.device.type == DeviceType.CPU)
        {
            // Rotary (and the queries' 1/√D) in place, row by row, where a dozen LibTorch operations cost more; then
            // our own attention, which reads the blocks in place: no gathered copy and no T × L score matrix.
            float* rows = TensorMemory.Pointer<float>(qkv), cosines = TensorMemory.Pointer<float>(cos), sines = TensorMemory.Pointer<float>(sin);
            var width = (heads + 2 * kvHeads) * d;
            Rotary.ApplyRows(rows, (int)t, width, heads, d, cosines, sines, (float)(1 / Math.Sqrt(d)));
            Rotary.ApplyRows(rows + heads * d, (int)t, width, kvHeads, d, cosines, sines, 1);
            cache.Append(layer, start, Heads(heads * d, kvHeads), Heads((heads + kvHeads) * d, kvHeads));
            return _o.Forward(BlockAttention.Prefill(Heads(0, heads), cache, layer, start));
        }

        // On a GPU, LibTorch's fused attention over a gathered copy; each key head is repeated for the G query heads
        // that share it. A chunk that starts at 0 is plain causal; a later chunk also sees every earlier position.
        var q = Rotary.Apply(Heads(0, heads), cos, sin);                                              // (H, T, D)
        cache.Append(layer, start, Rotary.Apply(Heads(heads * d, kvHeads), cos, sin), Heads((heads + kvHeads) * d, kvHeads));
        var (keys, values) = cache.Gather(layer, start + (int)t);                                     // (K, L, D)
        (keys, values) = (keys.to(q.dtype), values.to(q.dtype));
        var group = heads / kvHeads;
        var (expandedKeys, expandedValues) = group == 1 ? (keys, values) : (keys.repeat_interleave(group, 0), values.repeat_interleave(group, 0));
        var fused = start == 0
            ? nn.functional.scaled_dot_product_attention(q, expandedKeys, expandedValues, is_casual: t > 1)
            : nn.functional.scaled_dot_product_attention(q, expandedKeys, expandedValues, attn_mask: Visible(t, start, keys.shape[1], x.device)); // (H, T, D)
        return _o.Forward(fused.transpose(0, 1).reshape(t, heads * d));
    }

    /// <summary>
    /// One token for each of B sequences: x (B, E) → output (B, E). Row r is at positions[r] of caches[r], where its
    /// key and value are stored. The projections read their weights once for all rows.
    /// </summary>
    public void Step(ReadOnlySpan<float> x, int layer, ReadOnlySpan<int> positions, IReadOnlyList<KvCache> caches, StepBuffers b, Span<float> output)
    {
        var (d, kvHeads, rows) = (_config.HeadDim, _config.NumKvHeads, positions.Length);
        var group = _config.NumHeads / kvHeads;
        var (qSize, kvSize) = (_config.NumHeads * d, kvHeads * d);
        var width = qSize + 2 * kvSize;
        fixed (float* xp = x, qkv = b.Qkv)
            _qkv.Step(xp, qkv, rows);
        for (var r = 0; r < rows; r++)
        {
            var (cache, position) = (caches[r], positions[r]);
            var q = b.Qkv.AsSpan(r * width, qSize);
            var k = b.Qkv.AsSpan(r * width + qSize, kvSize);
            var v = b.Qkv.AsSpan(r * width + qSize + kvSize, kvSize);
            var cos = b.Cos.AsSpan(r * d / 2, d / 2);
            var sin = b.Sin.AsSpan(r * d / 2, d / 2);
            Rotary.StepApply(q, d, cos, sin);
            Rotary.StepApply(k, d, cos, sin);
            TensorPrimitives.Multiply(q, 1f / MathF.Sqrt(d), q); // scale the queries once rather than every score
            if (layer == 0)
            {
                // Before any layer writes: a block holds them all. Its table is final from here on, for every layer.
                cache.PrepareWrite(position, position + 1);
                var count = (position + cache.Pool.BlockSize) / cache.Pool.BlockSize;
                for (var i = 0; i < count; i++)
                    b.BlockIds[r * b.BlocksPerRow + i] = cache.Blocks[i];
            }
            for (var h = 0; h < kvHeads; h++)
                cache.Write(layer, h, position, k.Slice(h * d, d), v.Slice(h * d, d));
        }

        // Each (sequence, key head, stretch of its context) attends over its own blocks: independent work, spread
        // over the kernel threads.
        fixed (float* qkv = b.Qkv, attended = b.Attended, scores = b.Scores, partials = b.Partials)
        fixed (int* blockIds = b.BlockIds)
        {
            var job = stackalloc BlockAttention.StepRow[rows];
            var items = 0;
            for (var r = 0; r < rows; r++)
            {
                job[r] = new BlockAttention.StepRow(BlockAttention.For(caches[r], layer, blockIds + r * b.BlocksPerRow), positions[r] + 1, items);
                items += kvHeads * job[r].Stretches;
            }
            BlockAttention.Step(job, rows, qkv, width, attended, qSize, scores, partials, kvHeads, group, d);
        }

        fixed (float* a = b.Attended, o = output)
            _o.Step(a, o, rows);
    }

    /// <summary>(T, L): true where query i, at position start+i, may attend to key j.</summary>
    private static Tensor Visible(long t, int start, long length, Device device) =>
        TorchOperands.Range(0, length, device).unsqueeze(0) <= TorchOperands.Range(start, t, device).unsqueeze(1);
}

/// <summary>SwiGLU: down(silu(gate(x)) * up(x)).</summary>
public sealed unsafe class Mlp(ModelConfig c, SafeTensors weights, string prefix, Device device, WeightType type = WeightType.Stored)
{
    // gate and up stacked into one matrix: one product instead of two.
    private readonly Linear _gateUp = Linear.Stacked(weights, [($"{prefix}.gate_proj", c.IntermediateSize), ($"{prefix}.up_proj", c.IntermediateSize)], c.HiddenSize, false, device, type);
    private readonly Linear _down = new(weights.Load($"{prefix}.down_proj.weight", [c.HiddenSize, c.IntermediateSize]), null, device, type);

    public Tensor Forward(Tensor x)
    {
        var gateUp = _gateUp.Forward(x);                                                               // (T, 2I)
        var size = c.IntermediateSize;
        if (gateUp.device_type != DeviceType.CPU)
            return _down.Forward(nn.functional.silu(gateUp.narrow(1, 0, size)) * gateUp.narrow(1, size, size));
        var hidden = empty(gateUp.shape[0], size);
        SwiGlu(TensorMemory.Pointer<float>(gateUp), TensorMemory.Pointer<float>(hidden), (int)gateUp.shape[0], size);
        return _down.Forward(hidden);
    }

    /// <summary>hidden (T, I) = silu(gate) · up from gateUp (T, 2I), rows spread over the kernel threads.</summary>
    private static void SwiGlu(float* gateUp, float* hidden, int rows, int size)
    {
        var job = new SwiGluJob(gateUp, hidden, size);
        KernelThreads.For(rows, &SwiGluRow, &job);
    }

    private readonly struct SwiGluJob(float* gateUp, float* hidden, int size)
    {
        public readonly float* GateUp = gateUp, Hidden = hidden;
        public readonly int Size = size;
    }

    private static void SwiGluRow(void* state, int row)
    {
        var job = (SwiGluJob*)state;
        var size = job->Size;
        var gate = new ReadOnlySpan<float>(job->GateUp + (long)row * 2 * size, size);
        var up = new ReadOnlySpan<float>(job->GateUp + (long)row * 2 * size + size, size);
        var hidden = new Span<float>(job->Hidden + (long)row * size, size);
        // silu(g) * u = g * sigmoid(g) * u
        TensorPrimitives.Sigmoid(gate, hidden);
        TensorPrimitives.Multiply(hidden, gate, hidden);
        TensorPrimitives.Multiply(hidden, up, hidden);
    }

    /// <summary>x (B, E) → output (B, E).</summary>
    public void Step(ReadOnlySpan<float> x, int rows, StepBuffers b, Span<float> output)
    {
        fixed (float* xp = x, gateUp = b.GateUp, h = b.Hidden, o = output)
        {
            _gateUp.Step(xp, gateUp, rows);
            SwiGlu(gateUp, h, rows, c.IntermediateSize);
            _down.Step(h, o, rows);
        }
    }
}

public sealed class Block(ModelConfig c, SafeTensors weights, int index, Device device, WeightType type = WeightType.Stored)
{
    private readonly RmsNorm _attentionNorm = new(weights.Load($"model.layers.{index}.input_layernorm.weight", [c.HiddenSize]).to(device), c.RmsNormEps);
    private readonly Attention _attention = new(c, weights, $"model.layers.{index}.self_attn", device, type);
    private readonly RmsNorm _mlpNorm = new(weights.Load($"model.layers.{index}.post_attention_layernorm.weight", [c.HiddenSize]).to(device), c.RmsNormEps);
    private readonly Mlp _mlp = new(c, weights, $"model.layers.{index}.mlp", device, type);

    public Tensor Forward(Tensor x, KvCache cache, int start, Tensor cos, Tensor sin)
    {
        x = Residual(x, _attention.Forward(_attentionNorm.Forward(x), index, cache, start, cos, sin));
        return Residual(x, _mlp.Forward(_mlpNorm.Forward(x)));
    }

    /// <summary>x + delta; on the CPU added into delta, which nothing else holds.</summary>
    private static unsafe Tensor Residual(Tensor x, Tensor delta)
    {
        if (x.device_type != DeviceType.CPU)
            return x.add(delta, TorchOperands.One);
        var count = (int)x.numel();
        var sum = new Span<float>(TensorMemory.Pointer<float>(delta), count);
        TensorPrimitives.Add(sum, new ReadOnlySpan<float>(TensorMemory.Pointer<float>(x), count), sum);
        return delta;
    }

    /// <summary>x (B, E) is the residual stream of B sequences, updated in place.</summary>
    public void Step(Span<float> x, ReadOnlySpan<int> positions, IReadOnlyList<KvCache> caches, StepBuffers b)
    {
        var (rows, e) = (positions.Length, c.HiddenSize);
        var normed = b.Normed.AsSpan(0, rows * e);
        var delta = b.Delta.AsSpan(0, rows * e);
        for (var r = 0; r < rows; r++)
            _attentionNorm.Step(x.Slice(r * e, e), normed.Slice(r * e, e));
        _attention.Step(normed, index, positions, caches, b, delta);
        TensorPrimitives.Add(x, delta, x);
        for (var r = 0; r < rows; r++)
            _mlpNorm.Step(x.Slice(r * e, e), normed.Slice(r * e, e));
        _mlp.Step(normed, rows, b, delta);
        TensorPrimitives.Add(x, delta, x);
    }
}

/// <summary>Scratch memory for decoding steps of up to <see cref="LlamaModel.MaxStepBatch"/> sequences, allocated once per model.</summary>
public sealed class StepBuffers(ModelConfig c, int rows)
{
    public readonly float[] X = new float[rows * c.HiddenSize];
    public readonly float[] Normed = new float[rows * c.HiddenSize];
    public readonly float[] Delta = new float[rows * c.HiddenSize];
    public readonly float[] Qkv = new float[rows * (c.NumHeads + 2 * c.NumKvHeads) * c.HeadDim];
    public readonly float[] Attended = new float[rows * c.NumHeads * c.HeadDim];
    // Decoding attention's work items, (sequence, key head, stretch of StepStretch positions): each one's G heads'
    // scores over its stretch, and its partial result.
    public readonly float[] Scores = new float[StepItems(c, rows) * (c.NumHeads / c.NumKvHeads) * BlockAttention.StepStretch];
    public readonly float[] Partials = new float[StepItems(c, rows) * (c.NumHeads / c.NumKvHeads) * (c.HeadDim + 2)];

    private static int StepItems(ModelConfig c, int rows) =>
        rows * c.NumKvHeads * ((c.MaxPositionEmbeddings + BlockAttention.StepStretch - 1) / BlockAttention.StepStretch);

    public readonly int BlocksPerRow = (c.MaxPositionEmbeddings + KvBlockPool.DefaultBlockSize - 1) / KvBlockPool.DefaultBlockSize;
    public readonly int[] BlockIds = new int[rows * ((c.MaxPositionEmbeddings + KvBlockPool.DefaultBlockSize - 1) / KvBlockPool.DefaultBlockSize)];
    public readonly float[] GateUp = new float[rows * 2 * c.IntermediateSize];
    public readonly float[] Hidden = new float[rows * c.IntermediateSize];
    public readonly float[] Cos = new float[rows * c.HeadDim / 2];
    public readonly float[] Sin = new float[rows * c.HeadDim / 2];
}
/// <summary>
/// The weights of a Llama-family model, shared by every sequence. Per-sequence state lives in a
/// <see cref="KvCache"/>, so one model serves many conversations.
/// </summary>
public sealed unsafe class LlamaModel
{
    private readonly Tensor? _embedding; // (V, E) as stored or converted; null when 8-bit
    private readonly Q8Weights? _embeddingQ8;
    private readonly Block[] _blocks;
    private readonly RmsNorm _norm;
    private readonly Linear _lmHead;
    private readonly Rotary _rotary;
    private readonly nint _embeddingAddress; // for Step, on the CPU
    private readonly bool _embeddingIsBf16;
    private readonly StepBuffers _step;      // one step at a time: _stepLock
    private readonly Lock _stepLock = new();

    public LlamaModel(ModelConfig config, SafeTensors weights, Device device, WeightType weightType = WeightType.Stored)
    {
        Config = config;
        Device = device;
        WeightType = weightType;
        if (weightType == WeightType.Q8 && device.type != DeviceType.CPU)
            throw new NotSupportedException("8-bit weights (q8) run on the CPU only; use bf16 on a GPU");
        using var _ = inference_mode();
        var embedding = weights.Load("model.embed_tokens.weight", [config.VocabSize, config.HiddenSize]);
        // The embedding is kept like the other matrices: a tied lm_head reads the same memory, and an untied one
        // still costs a whole V × E matrix, the largest of a small model.
        if (weightType == WeightType.Q8)
            _embeddingQ8 = Linear.Quantize(embedding, device);
        else
        {
            _embedding = weightType switch
            {
                WeightType.F32 => embedding.to(ScalarType.Float32),
                WeightType.Bf16 => embedding.to(ScalarType.BFloat16),
                _ => device.type == DeviceType.CPU ? embedding : embedding.to(ScalarType.BFloat16).to(device),
            };
            if (_embedding.Handle != embedding.Handle)
                embedding.Dispose(); // the checkpoint's copy, converted: free it now rather than at a later collection
        }
        _blocks = Enumerable.Range(0, config.NumLayers).Select(i => new Block(config, weights, i, device, weightType)).ToArray();
        _norm = new RmsNorm(weights.Load("model.norm.weight", [config.HiddenSize]).to(device), config.RmsNormEps);
        _lmHead = config.TieWordEmbeddings && !weights.Contains("lm_head.weight")
            ? _embeddingQ8 is not null ? new Linear(_embeddingQ8, null, device) : new Linear(_embedding!, null, device)
            : new Linear(weights.Load("lm_head.weight", [config.VocabSize, config.HiddenSize]), null, device, weightType);
        _rotary = new Rotary(config, device);
        _step = new StepBuffers(config, MaxStepBatch);
        _embeddingAddress = device.type == DeviceType.CPU && _embedding is not null ? (nint)TensorMemory.Pointer<byte>(_embedding) : 0;
        _embeddingIsBf16 = _embedding?.dtype == ScalarType.BFloat16;
    }

    public ModelConfig Config { get; }

    public Device Device { get; }

    /// <summary>How the matrices are kept: as loaded with (<see cref="WeightType.Stored"/> unless asked otherwise).</summary>
    public WeightType WeightType { get; }

    /// <summary>Loads a model folder onto the given device; by default CUDA when LibTorch sees a GPU, else the CPU.</summary>
    public static LlamaModel Load(string modelDir, Device? device = null, WeightType weightType = WeightType.Stored) =>
        new(ModelConfig.Load(Path.Combine(modelDir, "config.json")), SafeTensors.Open(modelDir), device ?? (cuda.is_available() ? CUDA : CPU), weightType);

    /// <summary>The embeddings of the tokens, (T, E) F32.</summary>
    private Tensor Embed(ReadOnlySpan<int> tokens)
    {
        if (_embeddingQ8 is null)
            return _embedding!.index_select(0, tensor(tokens.ToArray(), ScalarType.Int32, device: Device)).to(ScalarType.Float32);
        var e = Config.HiddenSize;
        var x = empty(tokens.Length, e);
        var rows = new Span<float>(TensorMemory.Pointer<float>(x), tokens.Length * e);
        for (var t = 0; t < tokens.Length; t++)
            _embeddingQ8.DequantizeRow(tokens[t], rows.Slice(t * e, e));
        return x;
    }

    /// <summary>
    /// Runs the tokens at positions start..start+T-1 of a sequence whose first <paramref name="start"/> tokens are
    /// already in <paramref name="cache"/>. Returns F32 logits (T, V), or (1, V) for the last token only.
    /// </summary>
    public Tensor Forward(ReadOnlySpan<int> tokens, int start, KvCache cache, bool lastOnly = true)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var x = Embed(tokens);                                                                         // (T, E)
        var (cos, sin) = _rotary.Angles(TorchOperands.Range(start, tokens.Length, Device));
        foreach (var block in _blocks)
        {
            // Free each layer's intermediates as soon as it is done, or a long prompt holds all layers' at once.
            using var layer = NewDisposeScope();
            x = block.Forward(x, cache, start, cos, sin).MoveToOuterDisposeScope();
        }
        if (lastOnly)
            x = x.narrow(0, tokens.Length - 1, 1);
        return _lmHead.Forward(_norm.Forward(x)).MoveToOuterDisposeScope();                             // (T or 1, V)
    }

    /// <summary>The most sequences one <see cref="Step(ReadOnlySpan{int}, ReadOnlySpan{int}, IReadOnlyList{KvCache}, Span{float})"/> takes.</summary>
    public const int MaxStepBatch = 16;

    /// <summary>Decodes one token at <paramref name="position"/> and writes its next-token logits (V).</summary>
    public void Step(int token, int position, KvCache cache, Span<float> logits) => Step([token], [position], [cache], logits);

    /// <summary>
    /// Decodes one token for each of B sequences (token r at positions[r] of caches[r]) and writes their next-token
    /// logits, (B, V). On the CPU this runs our own kernels on the same weights and caches, reading each weight
    /// matrix once for the whole batch; elsewhere it is <see cref="Forward"/> per sequence.
    /// </summary>
    public void Step(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, IReadOnlyList<KvCache> caches, Span<float> logits)
    {
        var (rows, e, v) = (tokens.Length, Config.HiddenSize, Config.VocabSize);
        if (rows > MaxStepBatch || positions.Length != rows || caches.Count != rows || logits.Length < rows * v)
            throw new ArgumentException($"a step takes 1 to {MaxStepBatch} sequences, with a position, a cache and {v} logits each");
        if (Device.type != DeviceType.CPU)
        {
            for (var r = 0; r < rows; r++)
            {
                using var forward = Forward([tokens[r]], positions[r], caches[r]);
                using var host = forward.cpu();
                host.data<float>().CopyTo(logits.Slice(r * v, v));
            }
            return;
        }
        lock (_stepLock)
        {
            var b = _step;
            var x = b.X.AsSpan(0, rows * e);
            for (var r = 0; r < rows; r++)
            {
                var row = (long)tokens[r] * e;
                if (_embeddingQ8 is not null)
                    _embeddingQ8.DequantizeRow(tokens[r], x.Slice(r * e, e));
                else if (!_embeddingIsBf16)
                    new ReadOnlySpan<float>((float*)_embeddingAddress + row, e).CopyTo(x.Slice(r * e, e));
                else
                    Bf16.Widen(new ReadOnlySpan<ushort>((ushort*)_embeddingAddress + row, e), x.Slice(r * e, e));
                var half = Config.HeadDim / 2;
                _rotary.StepAngles(positions[r], b.Cos.AsSpan(r * half, half), b.Sin.AsSpan(r * half, half));
            }
            foreach (var block in _blocks)
                block.Step(x, positions, caches, b);
            for (var r = 0; r < rows; r++)
                _norm.Step(x.Slice(r * e, e), b.Normed.AsSpan(r * e, e));
            fixed (float* normed = b.Normed, l = logits)
                _lmHead.Step(normed, l, rows);
        }
    }
}
