using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// y = x Wᵀ + b, the one place that decides how a weight matrix is multiplied. Weights stay as stored (F32 or
/// BF16); activations are F32 on the CPU. On CUDA the product runs in the weights' type.
/// </summary>
public sealed class Linear
{
    private readonly Tensor _weight; // (out, in)
    private readonly Tensor? _bias;  // (out), F32

    public Linear(Tensor weight, Tensor? bias, Device device)
    {
        _weight = weight.to(device);
        _bias = bias?.to(ScalarType.Float32).to(device);
    }

    public long OutFeatures => _weight.shape[0];

    /// <summary>x: (N, in) F32 → (N, out) F32.</summary>
    public Tensor Forward(Tensor x)
    {
        if (_weight.device_type != DeviceType.CPU)
            return nn.functional.linear(x.to(_weight.dtype), _weight, _bias?.to(_weight.dtype)).to(ScalarType.Float32);
        if (_weight.dtype == ScalarType.Float32)
            return nn.functional.linear(x, _weight, _bias);
        // 16-bit weights on a CPU: widen for the product, so accumulation stays F32.
        using var widened = _weight.to(ScalarType.Float32);
        return nn.functional.linear(x, widened, _bias);
    }
}
