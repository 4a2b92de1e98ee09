using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// How keys and values are stored; attention computes in F32 whatever they are. The 16-bit types halve KV memory:
/// F16 keeps 11 significant bits (rounding ≤ 2⁻¹², 8× finer than BF16's 8 bits) and covers ±65504, which keys and
/// values of Llama-family models stay well inside; BF16 keeps F32's range.
/// </summary>
public enum KvType { F32, Bf16, F16 }

/// <summary>
/// A model's KV memory as fixed-size blocks of positions, shared by all of its sequences. A block holds every
/// layer's keys and values for <see cref="BlockSize"/> positions, laid out (layer, key|value, head, position, D) so
/// that one head's positions in a block are contiguous rows: the attention kernels read a block as a small matrix.
/// Blocks are reference-counted so that sequences sharing a prefix share its blocks. Not thread-safe: one
/// scheduler thread (or one standalone cache) uses a pool.
/// </summary>
public sealed unsafe class KvBlockPool : IDisposable
{
    /// <summary>
    /// 16 positions: a partial last block wastes at most 15 positions per sequence and prefixes are shared at
    /// that granularity, while one (layer, head)'s rows in a block (16 × D) are still a 2–4 KB matrix.
    /// </summary>
    public const int DefaultBlockSize = 16;


    private readonly Tensor _storage; // (blocks, layers, 2, K, BlockSize, D)
    private readonly byte* _address;  // CPU only
    private readonly int[] _references;
    private readonly Stack<int> _free = new();
    private readonly long _layerStride, _headStride; // in elements

    public KvBlockPool(ModelConfig config, int blocks, KvType type, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        (Config, Blocks, Device) = (config, blocks, device);
        var blockSize = BlockSize;
        // LibTorch computes in BF16 on the GPU, so the GPU cache is BF16 whatever was asked.
        Type = device.type == DeviceType.CPU ? type : KvType.Bf16;
        ElementSize = Type == KvType.F32 ? sizeof(float) : sizeof(ushort);
        _headStride = (long)blockSize * config.HeadDim;
        _layerStride = 2 * config.NumKvHeads * _headStride;
        BlockStride = config.NumLayers * _layerStride;
        using var _ = inference_mode(); // written inside inference mode, so created in it
        // empty, not zeros: pages are committed as blocks are first used, not for the whole budget at once.
        _storage = empty([blocks, config.NumLayers, 2, config.NumKvHeads, blockSize, config.HeadDim],
            Type switch { KvType.F32 => ScalarType.Float32, KvType.F16 => ScalarType.Float16, _ => ScalarType.BFloat16 }, device);
        if (device.type == DeviceType.CPU)
            _address = TensorMemory.Pointer<byte>(_storage);
        _references = new int[blocks];
        for (var block = blocks - 1; block >= 0; block--)
            _free.Push(block); // lowest first, so the memory in use stays at the front
    }

    public ModelConfig Config { get; }
    public int Blocks { get; }
    public int BlockSize => DefaultBlockSize; // the decode buffers (StepBuffers) are sized for it
    public KvType Type { get; }
    public Device Device { get; }
    public int ElementSize { get; }

    /// <summary>Elements from one block to the next.</summary>
    public long BlockStride { get; }

    public int Free => _free.Count;

    /// <summary>The memory one block takes.</summary>
    public static long BytesPerBlock(ModelConfig config, KvType type, int blockSize = DefaultBlockSize) =>
        2L * config.NumLayers * config.NumKvHeads * blockSize * config.HeadDim * (type == KvType.F32 ? 4 : 2);

    public long BytesInUse => (long)(Blocks - Free) * BytesPerBlock(Config, Type, BlockSize);

    /// <summary>A free block with one reference, or -1 when none is left.</summary>
    public int Allocate()
    {
        if (!_free.TryPop(out var block))
            return -1;
        _references[block] = 1;
        return block;
    }

    public int References(int block) => _references[block];

    public void Retain(int block)
    {
        if (_references[block] <= 0)
            throw new InvalidOperationException($"block {block} is free");
        _references[block]++;
    }

    public void Release(int block)
    {
        if (_references[block] <= 0)
            throw new InvalidOperationException($"block {block} is released twice");
        if (--_references[block] == 0)
            _free.Push(block);
    }

    /// <summary>Copies every layer's keys and values of one block into another.</summary>
    public void Copy(int from, int to)
    {
        using var _ = inference_mode();
        _storage[to].copy_(_storage[from]);
    }

    /// <summary>Where one head's keys (kind 0) or values (kind 1) of a block start: BlockSize rows of D. CPU only.</summary>
    public byte* Address(int block, int layer, int kind, int head) =>
        _address + (block * BlockStride + layer * _layerStride + (kind * Config.NumKvHeads + head) * _headStride) * ElementSize;

    /// <summary>Offset of (layer, kind, head) inside a block, in elements.</summary>
    public long Offset(int layer, int kind, int head) => layer * _layerStride + (kind * Config.NumKvHeads + head) * _headStride;

    /// <summary>Base address of the storage. CPU only.</summary>
    public byte* Base => _address;

    /// <summary>One layer's keys or values for the listed blocks as (K, blocks × BlockSize, D): the GPU path's SDPA input.</summary>
    public Tensor Gather(IReadOnlyList<int> blocks, int layer, int kind)
    {
        var ids = tensor(blocks.Select(b => (long)b).ToArray(), device: Device);
        var picked = _storage.index_select(0, ids).select(1, layer).select(1, kind); // (n, K, B, D)
        return picked.permute(1, 0, 2, 3).reshape(Config.NumKvHeads, blocks.Count * BlockSize, Config.HeadDim);
    }

    /// <summary>Writes x (K, n, D) at positions offset..offset+n-1 of one block's layer: the GPU path's writes.</summary>
    public void Write(int block, int layer, int kind, int offset, Tensor x) =>
        _storage[block, layer, kind].narrow(1, offset, x.shape[1]).copy_(x);

    public void Dispose() => _storage.Dispose();
}

internal static class Bf16Rounding
{
    /// <summary>F32 to BF16 bits, rounding to nearest even as LibTorch's conversion does (finite values).</summary>
    public static ushort Round(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
