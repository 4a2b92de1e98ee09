namespace ChatBlazor.Inference.Training.Data;

/// <summary>
/// "What does ephemeral mean?" → "Ephemeral (adjective): anything short-lived, ...". Draws from the
/// <c>poolSize</c> most frequent words (0: count/3), so each word is seen several times with different phrasings.
/// The eval set draws from the same most-frequent words: it tests new phrasings, not unseen words.
/// </summary>
internal static class Definitions
{
    private static readonly string[] _trainTemplates =
    [
        "What does {w} mean?", "what does {w} mean", "define {w}", "Define {w}.", "What is the meaning of {w}?",
        "meaning of {w}?", "{w} meaning", "what's {w} mean?", "Definition of {w}", "what is the definition of {w}?",
        "can you define {w}", "{w}: definition?", "What do people mean by {w}?", "Tell me what {w} means.",
        "what is {w}?", "{w}?", "what does the word {w} mean", "Meaning of the word {w}",
        // The words the eval's sentences use, in other sentences.
        "explain {w}", "sense of {w}?", "{w} means?", "short definition: {w}", "what is meant by {w}",
        // Requests said as statements, which the first model read as small talk.
        "I don't understand the word {w}.", "I'm not sure what {w} means.", "not sure what {w} means", "I don't get what {w} means",
        "I keep hearing \"{w}\". What does that mean?", "I read the word {w} somewhere. Meaning?", "I want to know what {w} means.",
        "I need the meaning of {w}.", "no idea what {w} means", "I have never understood the word {w}.",
        "How would you define {w}?", "tell me the meaning of {w}", "Give a definition of {w}.", "{w}, what is that?",
        "What does the term {w} refer to?", "Briefly, what is {w}?", "In simple terms, what does {w} mean?",
        "the word \"{w}\" - what does it mean?", "Explain what {w} means.", "what's the meaning of '{w}'?", "help me understand {w}",
    ];

    private static readonly string[] _evalTemplates =
    [
        "Explain the word {w}.", "I came across the word \"{w}\". What does it mean?", "Give me a short definition of {w}.",
        "In plain words, {w} means what?", "Could you tell me the sense of {w}?", "I don't know what {w} is supposed to mean.",
    ];

    public static IEnumerable<ChatExample> Generate(IReadOnlyList<WordDefinition> words, int count, int poolSize, Random rng, bool eval)
    {
        if (words.Count == 0)
            throw new InvalidOperationException("No WordNet words qualified; check the WordNet folder.");
        var pool = Math.Clamp(poolSize > 0 ? poolSize : count / 3, 1, words.Count);
        for (var i = 0; i < count; i++)
        {
            var word = words[rng.Next(pool)];
            var user = Phrasing.Fill(rng.Pick(eval ? _evalTemplates : _trainTemplates), "w", word.Word);
            if (!eval)
                user = Phrasing.Wrap(user, rng);
            yield return new ChatExample(DataCategory.Definitions, user, Answer(word), $"Meaning of {word.Word}");
        }
    }

    /// <summary>"Word (part of speech): gloss." — the judge reads the gloss after the first ": ".</summary>
    public static string Answer(WordDefinition word)
    {
        var gloss = word.Gloss.TrimEnd('.');
        return $"{char.ToUpperInvariant(word.Word[0])}{word.Word[1..]} ({word.PartOfSpeech}): {gloss}.";
    }
}
