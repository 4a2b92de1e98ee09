using System.Text.RegularExpressions;
using ChatBlazor.Inference.Training.Data;

namespace ChatBlazor.Inference.Tests.Training.Data;

internal static partial class TestData
{
    public static string WordNetFixture => Path.Combine(AppContext.BaseDirectory, "fixtures", "wordnet");

    public static IReadOnlyList<ChatExample> Generate(DataMix mix, int seed, bool eval) =>
        TrainingData.Generate(mix, seed, eval, WordNetFixture);

    /// <summary>
    /// The phrasing of a question with its content taken out: numbers become #, the defined word W, case,
    /// punctuation and the train-only noise words (pls, please, thanks, hey, whats) normalised away.
    /// </summary>
    public static string Skeleton(ChatExample example)
    {
        var text = example.User.ToLowerInvariant();
        if (example.Category == DataCategory.Definitions)
        {
            var word = example.Assistant[..example.Assistant.IndexOf(" (", StringComparison.Ordinal)].ToLowerInvariant();
            text = Regex.Replace(text, $@"\b{Regex.Escape(word)}\b", "W");
        }
        text = Digits().Replace(text, "#");
        text = text.Replace("what's", "what is").Replace("whats", "what is");
        text = NonWord().Replace(text, " ");
        text = Noise().Replace(text, " ");
        return Spaces().Replace(text, " ").Trim();
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"[^a-z#W ]")]
    private static partial Regex NonWord();

    [GeneratedRegex(@"\b(pls|please|thanks|hey)\b")]
    private static partial Regex Noise();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
