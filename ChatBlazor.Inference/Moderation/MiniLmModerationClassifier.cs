using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Inference.Moderation;

/// <summary>
/// <see cref="IModerationClassifier"/> on all-MiniLM-L6-v2 embeddings and our trained <see cref="ModerationHead"/>
/// (models/moderation/head.json, built into this assembly). ~3 ms for a chat message on one core; thread-safe.
/// </summary>
public sealed class MiniLmModerationClassifier(MiniLmEncoder encoder, ModerationHead head) : IModerationClassifier, IDisposable
{
    private const string ShippedHeadResource = "ChatBlazor.Inference.Moderation.head.json";

    public IReadOnlyList<string> Categories => head.Categories;

    /// <summary>The thresholds the head was shipped with (per category, flag at or above).</summary>
    public IReadOnlyDictionary<string, float> RecommendedThresholds => head.Thresholds;

    public ModerationHead Head => head;

    public MiniLmEncoder Encoder => encoder;

    /// <summary>Loads the encoder and the head that ships in this assembly.</summary>
    public static MiniLmModerationClassifier LoadShipped() => new(MiniLmEncoder.Load(), LoadShippedHead());

    public static ModerationHead LoadShippedHead()
    {
        using var stream = typeof(MiniLmModerationClassifier).Assembly.GetManifestResourceStream(ShippedHeadResource)
            ?? throw new InvalidOperationException("this build carries no moderation head: run `moderation-train --out models/moderation/head.json` and rebuild");
        return ModerationHead.Load(stream, "models/moderation/head.json");
    }

    public IReadOnlyDictionary<string, float> Score(string text)
    {
        var scores = head.Score(encoder.Embed(text));
        var result = new Dictionary<string, float>(scores.Length);
        for (var c = 0; c < scores.Length; c++)
            result[head.Categories[c]] = scores[c];
        return result;
    }

    public void Dispose() => encoder.Dispose();
}

/// <summary>Registers the moderation classifier.</summary>
public static class ModerationClassifierExtensions
{
    /// <summary>
    /// Adds <see cref="IModerationClassifier"/> as a singleton: the shipped head on MiniLM, loaded (~1 s, ~100 MB) when
    /// first resolved.
    /// </summary>
    public static IServiceCollection AddModerationClassifier(this IServiceCollection services)
    {
        services.AddSingleton<MiniLmModerationClassifier>(_ => MiniLmModerationClassifier.LoadShipped());
        services.AddSingleton<IModerationClassifier>(sp => sp.GetRequiredService<MiniLmModerationClassifier>());
        return services;
    }
}
