using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// One sequence's keys and values: a table of blocks in a <see cref="KvBlockPool"/>, position p in block
/// table[p / BlockSize]. Growing appends blocks; sharing a prefix takes the same blocks with one more reference,
/// and the first write into a block someone else also holds copies it first (copy-on-write).
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly KvBlockPool _pool;
    private readonly bool _ownsPool;
    private readonly List<int> _blocks = [];

    /// <summary>A cache with its own pool, holding exactly <paramref name="capacity"/> positions (rounded up to blocks).</summary>
    public KvCache(ModelConfig config, int capacity, Device device, KvType type = KvType.F32)
    {
        if (capacity <= 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the cache needs room for at least one token");
        _pool = new KvBlockPool(config, BlocksFor(capacity), type, device);
        _ownsPool = true;
        if (!TryGrow(capacity))
            throw new InvalidOperationException("a fresh pool sized for the cache is short of blocks");
    }

    /// <summary>An empty cache whose blocks come from a shared pool.</summary>
    public KvCache(KvBlockPool pool) => _pool = pool;

    public KvBlockPool Pool => _pool;

    public IReadOnlyList<int> Blocks => _blocks;

    public int Capacity => _blocks.Count * _pool.BlockSize;

    public long Bytes => _blocks.Count * KvBlockPool.BytesPerBlock(_pool.Config, _pool.Type, _pool.BlockSize);

    private static int BlocksFor(int positions) => (positions + KvBlockPool.DefaultBlockSize - 1) / KvBlockPool.DefaultBlockSize;

    /// <summary>What a cache of this capacity occupies, for memory budgets.</summary>
    public static long BytesFor(ModelConfig config, int capacity, KvType type) =>
        BlocksFor(capacity) * KvBlockPool.BytesPerBlock(config, type);

    /// <summary>Appends blocks until <paramref name="capacity"/> positions fit; false, having taken none, when the pool is short.</summary>
    public bool TryGrow(int capacity)
    {
        var needed = (capacity + _pool.BlockSize - 1) / _pool.BlockSize - _blocks.Count;
        if (needed > _pool.Free)
            return false;
        for (var i = 0; i < needed; i++)
            _blocks.Add(_pool.Allocate());
        return true;
    }

    /// <summary>
    /// Starts this empty cache with the blocks that hold <paramref name="source"/>'s positions 0..length-1, shared
    /// (one more reference each) rather than copied.
    /// </summary>
    public void Share(KvCache source, int length)
    {
        if (_blocks.Count != 0 || source._pool != _pool)
            throw new InvalidOperationException("only an empty cache shares blocks, and only from its own pool");
        if (length > source.Capacity)
            throw new ArgumentOutOfRangeException(nameof(length), length, "longer than the source cache");
        var count = (length + _pool.BlockSize - 1) / _pool.BlockSize;
        for (var i = 0; i < count; i++)
        {
            _pool.Retain(source._blocks[i]);
            _blocks.Add(source._blocks[i]);
        }
    }

    /// <summary>Drops the blocks past the first <paramref name="length"/> positions: a finished sequence kept as a prefix.</summary>
    public void Truncate(int length)
    {
        var keep = (length + _pool.BlockSize - 1) / _pool.BlockSize;
        for (var i = _blocks.Count - 1; i >= keep; i--)
        {
            _pool.Release(_blocks[i]);
            _blocks.RemoveAt(i);
        }
    }

    /// <summary>Blocks that writing positions start..end-1 would copy because they are shared.</summary>
    public int SharedBlocksIn(int start, int end)
    {
        var count = 0;
        for (var i = start / _pool.BlockSize; i < Math.Min(_blocks.Count, (end + _pool.BlockSize - 1) / _pool.BlockSize); i++)
            if (_pool.References(_blocks[i]) > 1)
                count++;
        return count;
    }

    /// <summary>Copy-on-write: gives this cache its own copy of every shared block that positions start..end-1 touch.</summary>
    public void PrepareWrite(int start, int end)
    {
        if (end > Capacity)
            throw new InvalidOperationException($"the sequence needs {end} positions but its cache holds {Capacity}");
        for (var i = start / _pool.BlockSize; i < (end + _pool.BlockSize - 1) / _pool.BlockSize; i++)
        {
            var block = _blocks[i];
            if (_pool.References(block) == 1)
                continue;
            var copy = _pool.Allocate();
            if (copy < 0)
                throw new InvalidOperationException("no free KV block to copy a shared block into");
            _pool.Copy(block, copy);
            _pool.Release(block);
            _blocks[i] = copy;
        }
    }

    /// <summary>Stores one head's key and value (D floats each) at a position, rounding to BF16 if the pool is BF16. CPU only.</summary>
    public void Write(int layer, int head, int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        if ((uint)position >= (uint)Capacity)
            throw new InvalidOperationException($"position {position} is outside the cache's {Capacity} positions");
        var (block, row) = (_blocks[position / _pool.BlockSize], position % _pool.BlockSize);
        var d = _pool.Config.HeadDim;
        WriteRow(_pool.Address(block, layer, 0, head), row, d, key);
        WriteRow(_pool.Address(block, layer, 1, head), row, d, value);
    }

    private const float MaxHalf = 65504;

    private void WriteRow(byte* rows, int row, int d, ReadOnlySpan<float> x)
    {
        if (_pool.Type == KvType.F32)
        {
            x.CopyTo(new Span<float>((float*)rows + (long)row * d, d));
            return;
        }
        if (_pool.Type == KvType.F16)
        {
            // Saturated to F16's largest finite value rather than overflowing to infinity, so every stored half is
            // finite and decoding can widen it with three integer operations and one multiply (F16Element).
            Span<float> clamped = stackalloc float[d];
            TensorPrimitives.Max(x, -MaxHalf, clamped);
            TensorPrimitives.Min(clamped, MaxHalf, clamped);
            TensorPrimitives.ConvertToHalf(clamped, new Span<Half>((Half*)rows + (long)row * d, d));
            return;
        }
        var target = (ushort*)rows + (long)row * d;
        for (var i = 0; i < d; i++)
            target[i] = Bf16Rounding.Round(x[i]);
    }

    /// <summary>One head's key (kind 0) or value (kind 1) at a position, widened to F32. For tests and checks.</summary>
    public float[] Read(int layer, int kind, int head, int position)
    {
        var (block, row) = (_blocks[position / _pool.BlockSize], position % _pool.BlockSize);
        var d = _pool.Config.HeadDim;
        var rows = _pool.Address(block, layer, kind, head);
        var result = new float[d];
        for (var i = 0; i < d; i++)
            result[i] = _pool.Type switch
            {
                KvType.F32 => ((float*)rows)[(long)row * d + i],
                KvType.F16 => (float)((Half*)rows)[(long)row * d + i],
                _ => BitConverter.Int32BitsToSingle(((ushort*)rows)[(long)row * d + i] << 16),
            };
        return result;
    }

    /// <summary>
    /// Stores k, v (K, T, D) at positions start..start+T-1 of a layer. Shared blocks in the range must have been
    /// made private with <see cref="PrepareWrite"/>.
    /// </summary>
    public void Append(int layer, int start, Tensor k, Tensor v)
    {
        var (t, kvHeads, d) = ((int)k.shape[1], (int)k.shape[0], (int)k.shape[2]);
        if (start + t > Capacity)
            throw new InvalidOperationException($"the sequence needs {start + t} positions but its cache holds {Capacity}");
        if (_pool.Device.type != TorchSharp.DeviceType.CPU)
        {
            for (var position = start; position < start + t;)
            {
                var (block, offset) = (_blocks[position / _pool.BlockSize], position % _pool.BlockSize);
                var n = Math.Min(_pool.BlockSize - offset, start + t - position);
                _pool.Write(block, layer, 0, offset, k.narrow(1, position - start, n));
                _pool.Write(block, layer, 1, offset, v.narrow(1, position - start, n));
                position += n;
            }
            return;
        }
        using var keys = k.to(ScalarType.Float32).contiguous();
        using var values = v.to(ScalarType.Float32).contiguous();
        var kp = TensorMemory.Pointer<float>(keys);
        var vp = TensorMemory.Pointer<float>(values);
        for (var h = 0; h < kvHeads; h++)
            for (var i = 0; i < t; i++)
            {
                var at = ((long)h * t + i) * d;
                Write(layer, h, start + i, new ReadOnlySpan<float>(kp + at, d), new ReadOnlySpan<float>(vp + at, d));
            }
    }

    /// <summary>One layer's keys and values for positions 0..length-1 as (K, length, D) tensors: the GPU path.</summary>
    public (Tensor Keys, Tensor Values) Gather(int layer, int length)
    {
        var blocks = _blocks.Take((length + _pool.BlockSize - 1) / _pool.BlockSize).ToArray();
        return (_pool.Gather(blocks, layer, 0).narrow(1, 0, length), _pool.Gather(blocks, layer, 1).narrow(1, 0, length));
    }

    public void Dispose()
    {
        foreach (var block in _blocks)
            _pool.Release(block);
        _blocks.Clear();
        if (_ownsPool)
            _pool.Dispose();
    }
}
