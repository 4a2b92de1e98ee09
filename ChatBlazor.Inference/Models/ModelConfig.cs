using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatBlazor.Inference.Models;

/// <summary>Llama-3 style rotary scaling (<c>rope_scaling.rope_type == "llama3"</c>).</summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary>
/// The parts of a Hugging Face <c>config.json</c> the Llama family needs. Llama, Mistral and Qwen2 share one
/// architecture; Qwen2 adds biases to the q/k/v projections.
/// </summary>
public sealed record ModelConfig(
    string ModelType,
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumLayers,
    int NumHeads,
    int NumKvHeads,
    int HeadDim,
    double RmsNormEps,
    double RopeTheta,
    Llama3RopeScaling? RopeScaling,
    int MaxPositionEmbeddings,
    bool TieWordEmbeddings,
    bool AttentionBias,
    IReadOnlyList<int> EosTokenIds,
    int? BosTokenId)
{
    private static readonly string[] SupportedTypes = ["llama", "mistral", "qwen2"];

    public static ModelConfig Load(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
        return Parse(json, path);
    }

    public static ModelConfig Parse(JsonObject json, string source = "config.json")
    {
        InvalidDataException Error(string field, string problem) => new($"{source}: {field} {problem}");

        var type = json["model_type"]?.GetValue<string>() ?? throw Error("model_type", "is missing");
        if (!SupportedTypes.Contains(type))
            throw Error("model_type", $"'{type}' is not supported (supported: {string.Join(", ", SupportedTypes)})");

        int Int(string field) => json[field] is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw Error(field, "is missing or not an integer");
        int? OptionalInt(string field) => json[field] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
        double Double(string field, double fallback) => json[field] is JsonValue v ? v.GetValue<double>() : fallback;

        if (json["hidden_act"]?.GetValue<string>() is { } act && act != "silu")
            throw Error("hidden_act", $"'{act}' is not supported (only silu)");
        if (json["mlp_bias"]?.GetValue<bool>() == true)
            throw Error("mlp_bias", "true is not supported");
        if (json["sliding_window"] is JsonValue sw && sw.TryGetValue<int>(out _) && json["use_sliding_window"]?.GetValue<bool>() == true)
            throw Error("use_sliding_window", "true is not supported");

        var hidden = Int("hidden_size");
        var heads = Int("num_attention_heads");
        var kvHeads = OptionalInt("num_key_value_heads") ?? heads;
        if (heads % kvHeads != 0)
            throw Error("num_key_value_heads", $"({kvHeads}) must divide num_attention_heads ({heads})");
        var headDim = OptionalInt("head_dim") ?? hidden / heads;

        return new ModelConfig(
            ModelType: type,
            VocabSize: Int("vocab_size"),
            HiddenSize: hidden,
            IntermediateSize: Int("intermediate_size"),
            NumLayers: Int("num_hidden_layers"),
            NumHeads: heads,
            NumKvHeads: kvHeads,
            HeadDim: headDim,
            RmsNormEps: Double("rms_norm_eps", 1e-6),
            RopeTheta: Double("rope_theta", 10000),
            RopeScaling: ParseRopeScaling(json["rope_scaling"], Error),
            MaxPositionEmbeddings: OptionalInt("max_position_embeddings") ?? 2048,
            TieWordEmbeddings: json["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            // Qwen2 always has q/k/v biases; Llama and Mistral only when attention_bias says so.
            AttentionBias: type == "qwen2" || json["attention_bias"]?.GetValue<bool>() == true,
            EosTokenIds: TokenIds(json["eos_token_id"]),
            BosTokenId: OptionalInt("bos_token_id"));
    }

    private static Llama3RopeScaling? ParseRopeScaling(JsonNode? node, Func<string, string, InvalidDataException> error)
    {
        if (node is null)
            return null;
        var type = node["rope_type"]?.GetValue<string>() ?? node["type"]?.GetValue<string>();
        if (type == "default")
            return null;
        if (type != "llama3")
            throw error("rope_scaling.rope_type", $"'{type}' is not supported (only llama3)");
        double Get(string field) => node[field]?.GetValue<double>() ?? throw error($"rope_scaling.{field}", "is missing");
        return new Llama3RopeScaling(Get("factor"), Get("low_freq_factor"), Get("high_freq_factor"), (int)Get("original_max_position_embeddings"));
    }

    /// <summary>HF writes eos_token_id as a number, a list, or null.</summary>
    internal static IReadOnlyList<int> TokenIds(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(n => n!.GetValue<int>()).ToArray(),
        JsonValue value when value.TryGetValue<int>(out var id) => [id],
        _ => [],
    };
}
