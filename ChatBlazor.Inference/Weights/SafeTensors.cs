using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Weights;

/// <summary>Where one tensor lives: its file, byte range and stored type.</summary>
public sealed record TensorEntry(string Name, string DType, long[] Shape, string File, long Offset, long Length);

/// <summary>
/// Reads Hugging Face safetensors checkpoints, single-file or sharded (<c>model.safetensors.index.json</c>).
/// The format is an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte
/// range, then the raw data. Tensors are streamed straight into LibTorch memory, so loading peaks at the size of
/// the weights (no second copy, no mapping of whole shards) and files past 2 GB work.
/// </summary>
public sealed class SafeTensors
{
    private readonly Dictionary<string, TensorEntry> _entries;

    private SafeTensors(Dictionary<string, TensorEntry> entries) => _entries = entries;

    public IReadOnlyCollection<TensorEntry> Entries => _entries.Values;

    public static SafeTensors Open(string modelDir, string fileName = "model.safetensors")
    {
        var index = Path.Combine(modelDir, "model.safetensors.index.json");
        var single = Path.Combine(modelDir, fileName);
        var entries = new Dictionary<string, TensorEntry>();
        if (File.Exists(index))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(index));
            var shards = json.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct();
            foreach (var shard in shards)
                ReadHeader(Path.Combine(modelDir, shard), entries);
        }
        else if (File.Exists(single))
        {
            ReadHeader(single, entries);
        }
        else
        {
            throw new FileNotFoundException($"{modelDir}: neither model.safetensors nor model.safetensors.index.json exists");
        }
        return new SafeTensors(entries);
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>
    /// Loads a tensor, checking its shape. F32 and BF16 stay as stored; F16 becomes F32 (CPUs have no fast F16 path).
    /// </summary>
    public Tensor Load(string name, long[] expectedShape)
    {
        if (!_entries.TryGetValue(name, out var entry))
            throw new InvalidDataException($"tensor '{name}' is missing from the checkpoint");
        if (!entry.Shape.SequenceEqual(expectedShape))
            throw new InvalidDataException($"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}], expected [{string.Join(", ", expectedShape)}]");

        var stored = entry.DType switch
        {
            "F32" => ScalarType.Float32,
            "BF16" => ScalarType.BFloat16,
            "F16" => ScalarType.Float16,
            _ => throw new InvalidDataException($"tensor '{name}' has dtype {entry.DType}; only F32, F16 and BF16 are supported"),
        };
        var tensor = empty(entry.Shape, stored);
        ReadInto(entry, tensor);
        if (stored != ScalarType.Float16)
            return tensor;
        using (tensor)
            return tensor.to(ScalarType.Float32);
    }

    private static unsafe void ReadInto(TensorEntry entry, Tensor tensor)
    {
        using var file = new FileStream(entry.File, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        file.Position = entry.Offset;
        fixed (byte* destination = tensor.bytes)
        {
            // Chunks keep each Span under int.MaxValue bytes.
            for (long done = 0; done < entry.Length;)
            {
                var chunk = (int)Math.Min(entry.Length - done, 1 << 30);
                file.ReadExactly(new Span<byte>(destination + done, chunk));
                done += chunk;
            }
        }
    }

    private static void ReadHeader(string path, Dictionary<string, TensorEntry> entries)
    {
        using var file = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > file.Length)
            throw new InvalidDataException($"{path}: not a safetensors file (header length {headerLength})");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataStart = 8 + headerLength;

        using var json = JsonDocument.Parse(header);
        foreach (var tensor in json.RootElement.EnumerateObject())
        {
            if (tensor.Name == "__metadata__")
                continue;
            var offsets = tensor.Value.GetProperty("data_offsets");
            var (begin, end) = (offsets[0].GetInt64(), offsets[1].GetInt64());
            if (dataStart + end > file.Length)
                throw new InvalidDataException($"{path}: tensor '{tensor.Name}' runs past the end of the file");
            entries[tensor.Name] = new TensorEntry(
                tensor.Name,
                tensor.Value.GetProperty("dtype").GetString()!,
                tensor.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
                path, dataStart + begin, end - begin);
        }
    }
}

/// <summary>Writes tensors in the safetensors format, as Hugging Face tools read it.</summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var length = tensor.NumberOfElements * tensor.ElementSize;
            header[name] = new
            {
                dtype = tensor.dtype switch
                {
                    ScalarType.Float32 => "F32",
                    ScalarType.BFloat16 => "BF16",
                    ScalarType.Float16 => "F16",
                    var other => throw new NotSupportedException($"cannot write {other} tensors"),
                },
                shape = tensor.shape,
                data_offsets = new[] { offset, offset + length },
            };
            offset += length;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        // The data must start 8-byte aligned; pad the header with spaces, as the reference writer does.
        var padded = (json.Length + 7) / 8 * 8;

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(lengthBytes, padded);
        file.Write(lengthBytes);
        file.Write(json);
        for (var i = json.Length; i < padded; i++)
            file.WriteByte((byte)' ');
        foreach (var (_, tensor) in tensors)
        {
            using var cpu = tensor.cpu().contiguous();
            file.Write(cpu.bytes);
        }
    }
}
