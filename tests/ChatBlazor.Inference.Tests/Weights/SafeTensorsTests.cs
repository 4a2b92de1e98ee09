using System.Text.Json;
using ChatBlazor.Inference.Weights;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Tests.Weights;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chatblazor-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WrittenTensorsReadBackBitExactInTheirStoredType()
    {
        using var scope = NewDisposeScope();
        var f32 = tensor(new float[] { 1.5f, -2.25f, 3e-8f, float.MaxValue, 0f, -0f }).reshape(2, 3);
        var bf16 = tensor(new float[] { 1f, -0.5f, 256f, 1e-3f }).to(ScalarType.BFloat16);
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), [("a", f32), ("b", bf16)]);

        var file = SafeTensors.Open(_dir);
        var a = file.Load("a", [2, 3]);
        var b = file.Load("b", [4]);

        Assert.Equal(ScalarType.BFloat16, b.dtype);
        Assert.Equal(f32.bytes.ToArray(), a.bytes.ToArray());
        Assert.Equal(bf16.bytes.ToArray(), b.bytes.ToArray());
    }

    [Fact]
    public void F16WeightsAreWidenedToF32()
    {
        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), [("h", tensor(new float[] { 0.5f, -3f, 1024f }).to(ScalarType.Float16))]);

        var h = SafeTensors.Open(_dir).Load("h", [3]);

        Assert.Equal(ScalarType.Float32, h.dtype);
        Assert.Equal([0.5f, -3f, 1024f], h.data<float>().ToArray());
    }

    [Fact]
    public void ShardedCheckpointsAreReadThroughTheirIndex()
    {
        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(Path.Combine(_dir, "model-00001-of-00002.safetensors"), [("x", ones(2))]);
        SafeTensorsWriter.Write(Path.Combine(_dir, "model-00002-of-00002.safetensors"), [("y", zeros(3))]);
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), JsonSerializer.Serialize(new
        {
            metadata = new { total_size = 20 },
            weight_map = new Dictionary<string, string> { ["x"] = "model-00001-of-00002.safetensors", ["y"] = "model-00002-of-00002.safetensors" },
        }));

        var file = SafeTensors.Open(_dir);

        Assert.Equal([1f, 1f], file.Load("x", [2]).data<float>().ToArray());
        Assert.Equal([0f, 0f, 0f], file.Load("y", [3]).data<float>().ToArray());
    }

    [Fact]
    public void ATensorStoredPastTheFirstTwoGigabytesOfAShardReadsCorrectly()
    {
        // A sparse file: 2 GiB of unwritten (zero, diskless) data, then one real tensor.
        const long offset = (1L << 31) + 8;
        var header = System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"filler":{"dtype":"F32","shape":[{{{offset / 4}}}],"data_offsets":[0,{{{offset}}}]},"far":{"dtype":"F32","shape":[2],"data_offsets":[{{{offset}}},{{{offset + 8}}}]}}""");
        using (var file = new FileStream(Path.Combine(_dir, "model.safetensors"), FileMode.Create))
        {
            file.Write(BitConverter.GetBytes((long)header.Length));
            file.Write(header);
            file.SetLength(8 + header.Length + offset + 8);
            file.Position = 8 + header.Length + offset;
            file.Write(BitConverter.GetBytes(1.25f));
            file.Write(BitConverter.GetBytes(-7.5f));
        }

        using var far = SafeTensors.Open(_dir).Load("far", [2]);

        Assert.Equal([1.25f, -7.5f], far.data<float>().ToArray());
    }

    [Fact]
    public void AMissingTensorIsNamedInTheError()
    {
        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), [("present", ones(1))]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(_dir).Load("model.norm.weight", [1]));

        Assert.Contains("'model.norm.weight' is missing", error.Message);
    }

    [Fact]
    public void AMisShapedTensorIsNamedWithBothShapes()
    {
        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), [("w", ones(4, 8))]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(_dir).Load("w", [8, 4]));

        Assert.Contains("'w' has shape [4, 8], expected [8, 4]", error.Message);
    }

    [Fact]
    public void AFolderWithoutWeightsSaysWhatItLookedFor()
    {
        var error = Assert.Throws<FileNotFoundException>(() => SafeTensors.Open(_dir));

        Assert.Contains("model.safetensors", error.Message);
    }
}
