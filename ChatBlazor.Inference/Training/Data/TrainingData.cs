using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Training.Data;

/// <summary>
/// One single-turn conversation. Plain text on both sides; the chat template is applied later. <paramref name="Title"/>
/// is what a conversation starting with this question should be called (the titles category is made from it).
/// </summary>
public sealed record ChatExample(string Category, string User, string Assistant, string? Title = null);

/// <summary>
/// How many examples of each category to generate. Definitions draw from the <paramref name="DefinitionWords"/> most
/// frequent WordNet words (0: a third of the definitions count), in training and eval alike.
/// </summary>
public sealed record DataMix(int Arithmetic, int Definitions, int ProductHelp, int SmallTalk, int Refusals, int DefinitionWords = 0, int Titles = 0);

/// <summary>The category names a <see cref="ChatExample"/> carries.</summary>
public static class DataCategory
{
    public const string Arithmetic = "arithmetic";
    public const string Definitions = "definitions";
    public const string ProductHelp = "product-help";
    public const string SmallTalk = "small-talk";
    public const string Refusals = "refusals";
    public const string Titles = "titles";
}

public static class TrainingData
{
    /// <summary>
    /// Generates a shuffled mix of examples, deterministic for a seed. Train (<paramref name="eval"/> false) and
    /// eval use disjoint phrasing templates in every category, and arithmetic also uses disjoint operand pairs,
    /// so eval measures generalisation to new phrasings. Definitions eval words are drawn from the same
    /// most-frequent words as training: that eval tests the phrasing, not unseen words.
    /// </summary>
    /// <param name="wordNetDir">WordNet 3.0 dictionary folder (Debian's wordnet-base); needed only when <c>mix.Definitions</c> &gt; 0.</param>
    /// <param name="userGuidePath">Markdown user guide; null uses the copy of docs/user-guide.md embedded in this assembly.</param>
    public static IReadOnlyList<ChatExample> Generate(DataMix mix, int seed, bool eval, string? wordNetDir = "/usr/share/wordnet", string? userGuidePath = null)
    {
        ArgumentNullException.ThrowIfNull(mix);
        var examples = new List<ChatExample>();

        // Each category has its own random stream, so changing one count leaves the other categories unchanged.
        examples.AddRange(Data.Arithmetic.Generate(mix.Arithmetic, new Random(Mix(seed, 1)), eval));
        if (mix.Definitions > 0)
        {
            if (wordNetDir is null || !File.Exists(Path.Combine(wordNetDir, "index.noun")))
                throw new DirectoryNotFoundException($"WordNet not found in '{wordNetDir}': install Debian's wordnet-base (apt-get install -y wordnet-base) or pass wordNetDir.");
            examples.AddRange(Data.Definitions.Generate(WordNet.LoadCommonWords(wordNetDir), mix.Definitions, mix.DefinitionWords, new Random(Mix(seed, 2)), eval));
        }
        if (mix.ProductHelp > 0)
        {
            var guide = userGuidePath is null ? Data.ProductHelp.ReadEmbeddedGuide() : File.ReadAllText(userGuidePath);
            examples.AddRange(Data.ProductHelp.Generate(guide, mix.ProductHelp, new Random(Mix(seed, 3)), eval));
        }
        examples.AddRange(Data.SmallTalk.Generate(mix.SmallTalk, new Random(Mix(seed, 4)), eval));
        examples.AddRange(Data.Refusals.Generate(mix.Refusals, new Random(Mix(seed, 5)), eval));
        examples.AddRange(TitlesFor(examples, mix.Titles, new Random(Mix(seed, 7))));

        Shuffle(examples, new Random(Mix(seed, 6)));
        return examples;
    }

    /// <summary>
    /// "Write a short title … \n\nWhat does ephemeral mean?" → "Meaning of ephemeral": the chat page's title request
    /// (<see cref="TitlePrompt"/>) over questions of the other categories, so eval titles come from eval phrasings.
    /// </summary>
    private static IEnumerable<ChatExample> TitlesFor(List<ChatExample> questions, int count, Random rng)
    {
        var titled = questions.Where(q => q.Title is not null).ToArray();
        for (var i = 0; i < count && titled.Length > 0; i++)
        {
            var question = titled[rng.Next(titled.Length)];
            yield return new ChatExample(DataCategory.Titles, TitlePrompt.For(question.User), question.Title!);
        }
    }

    private static int Mix(int seed, int stream) => unchecked(seed * 1_000_003 + stream * 7919);

    private static void Shuffle<T>(List<T> items, Random rng)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
