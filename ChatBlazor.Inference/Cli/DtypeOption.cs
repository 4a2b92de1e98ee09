using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Cli;

/// <summary><c>--dtype f32|bf16|q8</c>: how a command keeps the model's weights; without it, as stored.</summary>
internal static class DtypeOption
{
    public static WeightType Read(Args args) => args.String("dtype") is { } text ? Parse(text, "--dtype") : WeightType.Stored;

    public static WeightType Parse(string text, string where)
    {
        try
        {
            return WeightTypes.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{where}: {e.Message}");
        }
    }
}
