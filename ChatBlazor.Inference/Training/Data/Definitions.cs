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
        "{w} means what, exactly?", "and {w} means what?", "so what is {w}, simply put?", "in short, what's {w}?", "could you explain {w}",
        "Describe the meaning of {w}.", "Please clarify the word {w}.", "Give me the gist of {w}.", "What's the sense of the word {w}?",
    ];

    // Sentences assembled from parts, so the word is found in sentences the model never saw rather than in a frame
    // it learned by heart: the second model answered every "I don't know what X is supposed to mean" with one
    // fixed word. None of these assemble into an eval sentence.
    private static readonly string[] _leads =
    [
        "I saw ", "I heard ", "I read ", "I just read ", "my friend used ", "someone said ", "I found ", "I keep seeing ", "I ran into ",
        "I spotted ", "my teacher used ", "this article uses ", "I noticed ", "a book I'm reading uses ", "my boss said ", "there's ",
    ];

    private static readonly string[] _objects = ["the word {w}", "the word \"{w}\"", "\"{w}\"", "'{w}'", "the term {w}", "{w}", "the word '{w}'"];

    private static readonly string[] _tails =
    [
        ". What is the meaning?", ", what's that mean?", ". Meaning?", ". Can you define it?", ". what does that word mean",
        " and don't know what it means.", " today, what is it?", ". Explain it?", " - what's it mean?", " in a book. Definition?",
        " and I'm lost. Define it?", ". What does the word mean?", ", and I wonder what it means.", ". Help me understand it.",
        ". What does it mean?", ". What is it?", ". What's it stand for?", ". Any idea what it means?", ", what is meant by it?",
    ];

    private static readonly string[] _unsure =
    [
        "I don't know", "I have no idea", "I'm unsure", "not sure", "I never learned", "I can't tell", "I wonder", "I forgot",
        "I'm confused about", "I really don't know", "I don't remember", "Nobody told me", "I'm not certain",
        "I still don't know", "I can't work out", "I've no clue", "I never knew", "I do not understand",
    ];

    private static readonly string[] _unsureWhat =
    [
        " what {w} means", " what the word {w} means", " what \"{w}\" stands for", " what {w} is", " the meaning of {w}",
        " what {w} refers to", " what is meant by {w}", " what '{w}' means here", " what {w} should mean", " what people mean by {w}",
        // Words between the word and the verb: the third model lost the word in "what X is supposed to mean" (half
        // of those missed) and answered with another word's gloss.
        " what {w} really means", " what {w} actually is", " what {w} is meant to say", " what {w} is all about",
        " what {w} would mean", " what {w} is used to mean", " what the word {w} is about", " what {w} is taken to mean",
    ];

    // A lead-in before a question that ends with the word's verb: "In short, X means what?" style sentences were
    // the other frame the third model often lost the word in.
    private static readonly string[] _asides = ["Simply put, ", "In a few words, ", "Roughly, ", "Briefly: ", "Put simply, ", "In short, ", "Quickly, ", "Honestly, "];

    private static readonly string[] _questions =
    [
        "{w} means what?", "what does {w} mean?", "what is {w}?", "{w} is what?", "what's meant by {w}?", "{w} stands for what?",
        "the word {w} means what?", "\"{w}\" means what?", "define {w}.",
    ];

    private static readonly string[] _unsureEnds = [".", "", "...", ". Help?", ". Can you explain?"];

    private static string TrainTemplate(Random rng) => rng.Next(5) switch
    {
        0 => rng.Pick(_leads) + rng.Pick(_objects) + rng.Pick(_tails),
        1 => rng.Pick(_unsure) + rng.Pick(_unsureWhat) + rng.Pick(_unsureEnds),
        2 => rng.Pick(_asides) + rng.Pick(_questions),
        _ => rng.Pick(_trainTemplates),
    };

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
            var user = Phrasing.Fill(eval ? rng.Pick(_evalTemplates) : TrainTemplate(rng), "w", word.Word);
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
