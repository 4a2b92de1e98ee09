namespace ChatBlazor.Inference.Models;

/// <summary>How a model keeps its matrix weights in memory, chosen when it is loaded. Norms always stay F32.</summary>
public enum WeightType
{
    /// <summary>As the checkpoint stores them (F16 becomes F32).</summary>
    Stored,

    F32,

    /// <summary>BF16: F32 checkpoints are rounded to it at load.</summary>
    Bf16,

    /// <summary>8-bit blocks with F32 scales (<see cref="Kernels.Q8Weights"/>), quantized at load; CPU only.</summary>
    Q8,
}

public static class WeightTypes
{
    /// <summary>The names users give on the command line and in configuration.</summary>
    public const string Names = "f32, bf16 or q8";

    /// <summary>Parses f32, bf16 or q8 (any case); anything else is an error naming the choices.</summary>
    public static WeightType Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "f32" => WeightType.F32,
        "bf16" => WeightType.Bf16,
        "q8" => WeightType.Q8,
        _ => throw new ArgumentException($"unknown weight type '{text}': use {Names}"),
    };

    /// <summary>The name <see cref="Parse"/> reads, or "stored".</summary>
    public static string Name(this WeightType type) => type == WeightType.Stored ? "stored" : type.ToString().ToLowerInvariant();
}
