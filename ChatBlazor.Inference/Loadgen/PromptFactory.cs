namespace ChatBlazor.Inference.Loadgen;

/// <summary>
/// Random prompts, as vLLM's "random" dataset makes them: what is measured is the engine's speed at a given length,
/// so content does not matter but length and the seed's reproducibility do.
/// </summary>
internal static class PromptFactory
{
    // Short, common words: each is about one token for most vocabularies, so a chat prompt of N words is about N tokens.
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "it", "that", "for", "on", "was", "with", "as", "at", "by", "this",
        "from", "or", "but", "not", "are", "have", "one", "all", "we", "can", "her", "his", "they", "there", "been",
        "time", "day", "way", "man", "new", "good", "old", "great", "small", "long", "first", "last", "own", "other",
        "work", "life", "world", "house", "water", "light", "night", "year", "hand", "part", "place", "case", "point",
    ];

    /// <summary>Lengths drawn uniformly from [len·(1−ratio), len·(1+ratio)], at least 1; exactly len when ratio is 0.</summary>
    public static int[] Lengths(int count, int length, double rangeRatio, Random random)
    {
        var low = Math.Max(1, (int)(length * (1 - rangeRatio)));
        var high = Math.Max(low, (int)(length * (1 + rangeRatio)));
        return Enumerable.Range(0, count).Select(_ => random.Next(low, high + 1)).ToArray();
    }

    public static List<LoadRequest> TokenPrompts(int count, int length, double rangeRatio, int outputLength, int vocabSize, int seed)
    {
        var random = new Random(seed);
        return Lengths(count, length, rangeRatio, random)
            .Select((n, i) => new LoadRequest(i, Enumerable.Range(0, n).Select(_ => random.Next(vocabSize)).ToArray(), null, n, outputLength))
            .ToList();
    }

    public static List<LoadRequest> TextPrompts(int count, int length, double rangeRatio, int outputLength, int seed)
    {
        var random = new Random(seed);
        return Lengths(count, length, rangeRatio, random)
            .Select((n, i) => new LoadRequest(i, null, string.Join(' ', Enumerable.Range(0, n).Select(_ => Words[random.Next(Words.Length)])), n, outputLength))
            .ToList();
    }
}
