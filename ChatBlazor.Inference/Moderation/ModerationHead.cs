using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatBlazor.Inference.Moderation;

/// <summary>
/// The classifier on top of the sentence embedding: one hidden ReLU layer, then one sigmoid per category (multi-label:
/// a threat is harassment, harassment/threatening and violence at once). Stored as JSON with its recommended thresholds.
/// </summary>
public sealed class ModerationHead
{
    /// <summary>Bumped when the file's meaning changes; a file of another version is refused, not misread.</summary>
    public const int FormatVersion = 1;

    public required int Version { get; init; }
    public required string Encoder { get; init; }
    public required string[] Categories { get; init; }
    /// <summary>Per category, the score at or above which it is flagged (chosen on the validation split).</summary>
    public required Dictionary<string, float> Thresholds { get; init; }
    public required int Hidden { get; init; }
    /// <summary>(Hidden, 384) row-major.</summary>
    public required float[] W1 { get; init; }
    public required float[] B1 { get; init; }
    /// <summary>(Categories, Hidden) row-major.</summary>
    public required float[] W2 { get; init; }
    public required float[] B2 { get; init; }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = false };

    public float[] Score(ReadOnlySpan<float> embedding)
    {
        var hidden = new float[Hidden];
        Forward(embedding, hidden, out var scores);
        return scores;
    }

    /// <summary>Fills <paramref name="hidden"/> with the post-ReLU activations and returns the sigmoid scores.</summary>
    internal void Forward(ReadOnlySpan<float> x, Span<float> hidden, out float[] scores)
    {
        var inputs = x.Length;
        for (var h = 0; h < Hidden; h++)
        {
            var z = B1[h] + System.Numerics.Tensors.TensorPrimitives.Dot(W1.AsSpan(h * inputs, inputs), x);
            hidden[h] = Math.Max(z, 0);
        }
        scores = new float[Categories.Length];
        for (var c = 0; c < Categories.Length; c++)
        {
            var z = B2[c] + System.Numerics.Tensors.TensorPrimitives.Dot(W2.AsSpan(c * Hidden, Hidden), hidden);
            scores[c] = 1 / (1 + MathF.Exp(-z));
        }
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
    }

    public static ModerationHead Load(Stream stream, string name)
    {
        ModerationHead head;
        try
        {
            head = JsonSerializer.Deserialize<ModerationHead>(stream, Json) ?? throw new InvalidDataException($"{name}: empty moderation head");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: not a moderation head file ({e.Message})", e);
        }
        head.Validate(name);
        return head;
    }

    private void Validate(string name)
    {
        if (Version != FormatVersion)
            throw new InvalidDataException($"{name}: moderation head version {Version}, this build reads version {FormatVersion}");
        var inputs = MiniLmEncoder.Dimensions;
        if (W1.Length != Hidden * inputs || B1.Length != Hidden || W2.Length != Categories.Length * Hidden || B2.Length != Categories.Length)
            throw new InvalidDataException($"{name}: weight shapes do not match {Hidden} hidden units, {Categories.Length} categories and {inputs} inputs");
        if (Categories.FirstOrDefault(c => !Thresholds.ContainsKey(c)) is { } missing)
            throw new InvalidDataException($"{name}: no threshold for category '{missing}'");
    }

    [JsonIgnore]
    public int ParameterCount => W1.Length + B1.Length + W2.Length + B2.Length;
}
