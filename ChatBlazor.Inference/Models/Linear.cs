using ChatBlazor.Inference.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// y = x Wᵀ + b, the one place that decides how a weight matrix is multiplied. Weights are F32, BF16 or 8-bit
/// (<see cref="Q8Weights"/>) as chosen at load; activations are F32 on the CPU. Many rows at once (prefill) go to
/// our packed matrix products (<see cref="MatMul"/>); a few rows (decoding) go to our matrix-vector kernels, which
/// read the weights near memory bandwidth where LibTorch's matrix-vector product reaches a third of it. On CUDA
/// the product runs in the weights' type.
/// </summary>
public sealed unsafe class Linear
{
    private readonly Tensor? _weight; // (out, in); null when the weights are 8-bit
    private readonly Q8Weights? _q8;
    private readonly Tensor? _bias;  // (out), F32
    private readonly nint _weightAddress, _biasAddress; // for Step, on the CPU
    private readonly bool _isBf16;

    /// <summary>
    /// Keeps <paramref name="weight"/> as <paramref name="type"/> says. A weight converted to another type (quantized
    /// to 8 bits, rounded to BF16) is disposed once converted, so its memory goes back at once: for any type but
    /// <see cref="WeightType.Stored"/>, pass a tensor nothing else uses.
    /// </summary>
    public Linear(Tensor weight, Tensor? bias, Device device, WeightType type = WeightType.Stored)
        : this(type == WeightType.Q8 ? Quantize(weight, device) : null, type == WeightType.Q8 ? null : Convert(weight, type, device), bias, device)
    {
    }

    /// <summary>A product over weights already in 8 bits (a tied lm_head shares the embedding's).</summary>
    public Linear(Q8Weights weight, Tensor? bias, Device device) : this(weight, null, bias, device)
    {
    }

    private Linear(Q8Weights? q8, Tensor? weight, Tensor? bias, Device device)
    {
        (_q8, _weight) = (q8, weight);
        _bias = bias?.to(ScalarType.Float32).to(device);
        (OutFeatures, InFeatures) = q8 is null ? ((int)weight!.shape[0], (int)weight.shape[1]) : (q8.Rows, q8.Cols);
        _isBf16 = weight?.dtype == ScalarType.BFloat16;
        if (device.type != DeviceType.CPU)
            return;
        _weightAddress = weight is null ? 0 : (nint)TensorMemory.Pointer<byte>(weight);
        _biasAddress = _bias is null ? 0 : (nint)TensorMemory.Pointer<float>(_bias);
    }

    private static Tensor Convert(Tensor weight, WeightType type, Device device)
    {
        // GPUs compute in 16 bits: F32 checkpoints become BF16 there; CPUs keep what was stored.
        if (type == WeightType.Stored)
            return device.type == DeviceType.CPU || weight.dtype != ScalarType.Float32 ? weight.to(device) : weight.to(ScalarType.BFloat16).to(device);
        var converted = weight.to(type == WeightType.F32 ? ScalarType.Float32 : ScalarType.BFloat16).to(device);
        if (converted.Handle != weight.Handle)
            weight.Dispose();
        return converted;
    }

    internal static Q8Weights Quantize(Tensor weight, Device device)
    {
        if (device.type != DeviceType.CPU)
            throw new NotSupportedException("8-bit weights run on the CPU only");
        using (weight)
        using (var f32 = weight.to(ScalarType.Float32).contiguous())
            return Q8Weights.Quantize(TensorMemory.Pointer<float>(f32), (int)weight.shape[0], (int)weight.shape[1]);
    }

    /// <summary>
    /// Several projections of the same input stacked row-wise into one matrix (q/k/v, gate/up), so one product
    /// reads them all. The parts are kept as <paramref name="type"/> says.
    /// </summary>
    public static Linear Stacked(Weights.SafeTensors weights, IReadOnlyList<(string Prefix, int Rows)> parts, int inFeatures, bool bias, Device device, WeightType type = WeightType.Stored)
    {
        using var scope = NewDisposeScope();
        var weight = cat(parts.Select(p => weights.Load($"{p.Prefix}.weight", [p.Rows, inFeatures])).ToArray(), 0);
        var biases = bias ? cat(parts.Select(p => weights.Load($"{p.Prefix}.bias", [p.Rows])).ToArray(), 0) : null;
        var linear = new Linear(weight, biases, device, type);
        linear._weight?.MoveToOuterDisposeScope();
        linear._bias?.MoveToOuterDisposeScope();
        return linear;
    }

    /// <summary>Up to this many rows the matrix-vector kernels beat matrix products (measured against LibTorch's).</summary>
    private const int MaxKernelRows = 16;

    public int OutFeatures { get; }

    public int InFeatures { get; }

    /// <summary>y (batch, out) = x (batch, in) Wᵀ + b on raw CPU memory, for decoding.</summary>
    public void Step(float* x, float* y, int batch = 1)
    {
        if (_q8 is not null)
            Q8MatVec.Multiply(_q8, x, y, batch);
        else if (!_isBf16)
            MatVec.F32((float*)_weightAddress, x, y, OutFeatures, InFeatures, batch);
        else
            MatVec.Bf16((ushort*)_weightAddress, x, y, OutFeatures, InFeatures, batch);
        if (_biasAddress == 0)
            return;
        var bias = new ReadOnlySpan<float>((float*)_biasAddress, OutFeatures);
        for (var b = 0; b < batch; b++)
        {
            var row = new Span<float>(y + b * OutFeatures, OutFeatures);
            System.Numerics.Tensors.TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>x: (N, in) F32 → (N, out) F32.</summary>
    public Tensor Forward(Tensor x)
    {
        if (_weight is { device_type: not DeviceType.CPU })
            return nn.functional.linear(x.to(_weight.dtype), _weight, _bias?.to(_weight.dtype)).to(ScalarType.Float32);
        // 8-bit weights go to the integer kernels at any number of rows, as llama.cpp's do: quantizing the inputs and
        // taking integer dot products beat widening the weights for our F32 matrix product at every prefill length
        // measured (32 tokens: 2×; 256: 1.03× with VNNI, 1.3× with AVX2). The portable path is scalar, so there the
        // matrix product still wins.
        if (x.shape[0] <= MaxKernelRows || (_q8 is not null && Q8MatVec.Path != Q8Path.Portable))
        {
            // Few rows (the last position of a prefill, a decode step): our kernels, no widened copy of the weights.
            using var input = x.contiguous();
            var y = empty(x.shape[0], OutFeatures);
            Step(TensorMemory.Pointer<float>(input), TensorMemory.Pointer<float>(y), (int)x.shape[0]);
            return y;
        }
        // Many rows (prefill): our packed matrix products, faster than LibTorch's on every smol135 projection and
        // reading BF16 and 8-bit weights as stored, widened panel by panel, never as a whole widened copy.
        using var inputs = x.contiguous();
        var outputs = empty(x.shape[0], OutFeatures);
        float* xs = TensorMemory.Pointer<float>(inputs), ys = TensorMemory.Pointer<float>(outputs), bias = (float*)_biasAddress;
        if (_q8 is not null)
            MatMul.Q8(_q8, xs, ys, (int)x.shape[0], bias);
        else if (!_isBf16)
            MatMul.F32((float*)_weightAddress, xs, ys, OutFeatures, InFeatures, (int)x.shape[0], bias);
        else
            MatMul.Bf16((ushort*)_weightAddress, xs, ys, OutFeatures, InFeatures, (int)x.shape[0], bias);
        return outputs;
    }
}
