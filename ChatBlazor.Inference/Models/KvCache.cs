using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// One sequence's attention keys and values for every layer, allocated once at its full capacity so that decoding
/// writes into place instead of concatenating a new tensor each step.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly Tensor _keys;   // (layers, K, capacity, D)
    private readonly Tensor _values; // (layers, K, capacity, D)
    private readonly float* _keysAddress, _valuesAddress; // for Step, on the CPU
    private readonly int _kvHeads, _headDim;

    public KvCache(ModelConfig config, int capacity, Device device)
    {
        if (capacity <= 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the cache needs room for at least one token");
        Capacity = capacity;
        // Caches are written inside inference mode, so they must be created in it too.
        using var _ = inference_mode();
        var dtype = device.type == DeviceType.CPU ? ScalarType.Float32 : ScalarType.BFloat16;
        long[] shape = [config.NumLayers, config.NumKvHeads, capacity, config.HeadDim];
        _keys = zeros(shape, dtype, device);
        _values = zeros(shape, dtype, device);
        (_kvHeads, _headDim) = (config.NumKvHeads, config.HeadDim);
        if (device.type == DeviceType.CPU)
        {
            _keysAddress = TensorMemory.Pointer<float>(_keys);
            _valuesAddress = TensorMemory.Pointer<float>(_values);
        }
    }

    /// <summary>Where one head's keys start: positions 0..Capacity-1 follow as rows of D floats. CPU only.</summary>
    public float* KeysAddress(int layer, int head) => _keysAddress + Offset(layer, head, 0);

    public float* ValuesAddress(int layer, int head) => _valuesAddress + Offset(layer, head, 0);

    /// <summary>The key of one head at one position (D floats), in place; CPU only.</summary>
    public Span<float> Key(int layer, int head, int position) => new(_keysAddress + Offset(layer, head, position), _headDim);

    public Span<float> Value(int layer, int head, int position) => new(_valuesAddress + Offset(layer, head, position), _headDim);

    private long Offset(int layer, int head, int position)
    {
        if ((uint)position >= (uint)Capacity)
            throw new InvalidOperationException($"position {position} is outside the cache's {Capacity} positions");
        return (((long)layer * _kvHeads + head) * Capacity + position) * _headDim;
    }

    public int Capacity { get; }

    /// <summary>What a cache of this capacity occupies, for memory budgets.</summary>
    public static long BytesFor(ModelConfig config, int capacity, Device device) =>
        2L * config.NumLayers * config.NumKvHeads * capacity * config.HeadDim * (device.type == DeviceType.CPU ? 4 : 2);

    /// <summary>Copies positions 0..length-1 from another cache of the same model: growing a cache, or reusing a prefix.</summary>
    public void CopyFrom(KvCache source, int length)
    {
        if (length > Capacity || length > source.Capacity)
            throw new ArgumentOutOfRangeException(nameof(length), length, "longer than one of the caches");
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        _keys.narrow(2, 0, length).copy_(source._keys.narrow(2, 0, length));
        _values.narrow(2, 0, length).copy_(source._values.narrow(2, 0, length));
    }

    public long Bytes => 2 * _keys.NumberOfElements * _keys.ElementSize;

    /// <summary>Stores k, v (K, T, D) at positions start..start+T-1 and returns the keys and values up to there, (K, L, D).</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, int start, Tensor k, Tensor v)
    {
        var end = start + (int)k.shape[1];
        if (end > Capacity)
            throw new InvalidOperationException($"the sequence needs {end} positions but its cache holds {Capacity}");
        var (keys, values) = (_keys[layer], _values[layer]);
        keys.narrow(1, start, k.shape[1]).copy_(k);
        values.narrow(1, start, v.shape[1]).copy_(v);
        return (keys.narrow(1, 0, end).to(k.dtype), values.narrow(1, 0, end).to(v.dtype));
    }

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}
