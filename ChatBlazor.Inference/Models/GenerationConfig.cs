using System.Text.Json.Nodes;

namespace ChatBlazor.Inference.Models;

/// <summary>A model's <c>generation_config.json</c>: its end-of-sequence ids and default sampling values.</summary>
public sealed record GenerationConfig(IReadOnlyList<int> EosTokenIds, double? Temperature, double? TopP, int? TopK, double? RepetitionPenalty, bool DoSample)
{
    public static GenerationConfig Empty { get; } = new([], null, null, null, null, false);

    public static GenerationConfig Load(string path)
    {
        if (!File.Exists(path))
            return Empty;
        var json = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty");
        return new GenerationConfig(
            ModelConfig.TokenIds(json["eos_token_id"]),
            json["temperature"]?.GetValue<double>(),
            json["top_p"]?.GetValue<double>(),
            json["top_k"]?.GetValue<int>(),
            json["repetition_penalty"]?.GetValue<double>(),
            json["do_sample"]?.GetValue<bool>() ?? false);
    }
}
