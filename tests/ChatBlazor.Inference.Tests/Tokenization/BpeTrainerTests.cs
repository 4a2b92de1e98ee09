using System.Text;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

public sealed class BpeTrainerTests : IDisposable
{
    private static readonly string[] SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    private readonly string _directory = Directory.CreateTempSubdirectory("bpe-trainer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void TheFirstMergesOnATinyCorpusAreItsMostFrequentPairsWorkedOutByHand()
    {
        // "aaab aab ab" splits into "aaab", " aab", " ab"; in byte-level spelling a space is Ġ:
        //   aaab : (a,a) ×2, (a,b)
        //   Ġaab : (Ġ,a), (a,a), (a,b)
        //   Ġab  : (Ġ,a), (a,b)
        // (a,a) = 3 and (a,b) = 3 tie; "a" < "b" on the right gives (a,a) first. Then the words are
        //   aa a b | Ġ aa b | Ġ a b   so (a,b) = 2 leads (all else 1) and becomes "ab". Then
        //   aa ab  | Ġ aa b | Ġ ab    every pair is seen once, below minFrequency 2, so training stops
        // at 2 merges although the vocabulary asked for room for 100.
        var merges = BpeTrainer.Train(["aaab aab ab"], vocabSize: 256 + 100, specialTokens: []);

        Assert.Equal([("a", "a"), ("a", "b")], merges);
    }

    [Fact]
    public void WithMinFrequencyOneTrainingGoesOnUntilEveryWordIsOneToken()
    {
        // Continuing the hand-worked example above with all pairs at count 1, ties go by spelling
        // ("aa" < "ab" < "b" < "Ġ", since Ġ is U+0120):
        //   (aa,ab) -> aaab | Ġ aa b | Ġ ab
        //   (aa,b)  -> aaab | Ġ aab  | Ġ ab
        //   (Ġ,aab) -> "aab" < "ab" on the right, then (Ġ,ab); after that no pair is left.
        var merges = BpeTrainer.Train(["aaab aab ab"], vocabSize: 256 + 100, specialTokens: [], minFrequency: 1);

        Assert.Equal(
            [("a", "a"), ("a", "b"), ("aa", "ab"), ("aa", "b"), ("Ġ", "aab"), ("Ġ", "ab")],
            merges);
    }

    [Fact]
    public void TheMoreFrequentPairIsMergedFirstWhateverTheOrderOfTheCorpus()
    {
        var merges = BpeTrainer.Train(["cd", "ab", "cd", "ab", "cd"], vocabSize: 256 + 2, specialTokens: []);

        Assert.Equal([("c", "d"), ("a", "b")], merges);
    }

    [Fact]
    public void TiesGoToThePairThatSortsFirstByItsSpelling()
    {
        // "ba" and "ab" once each: (b,a) and (a,b) tie at 1; (a,b) sorts first, and then (b,a) is next.
        // Both corpus orders must give the same answer, so the order words were met cannot break the tie.
        var forward = BpeTrainer.Train(["ba", "ab"], vocabSize: 256 + 2, specialTokens: [], minFrequency: 1);
        var backward = BpeTrainer.Train(["ab", "ba"], vocabSize: 256 + 2, specialTokens: [], minFrequency: 1);

        Assert.Equal([("a", "b"), ("b", "a")], forward);
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void TrainingTwiceOnTheSameCorpusGivesTheSameMerges()
    {
        var corpus = SyntheticCorpus(documents: 300, seed: 7);

        var first = BpeTrainer.Train(corpus, vocabSize: 600, SpecialTokens);
        var second = BpeTrainer.Train(corpus.Reverse(), vocabSize: 600, SpecialTokens);

        Assert.Equal(first, second);
    }

    [Fact]
    public void IncrementalTrainingLearnsWhatRecountingEveryPairEachStepLearns()
    {
        // The trainer patches pair counts around each merge; this reference recounts everything from the
        // words each step, which is slow but plainly right. Words come from the real tokenizer's split.
        var corpus = SyntheticCorpus(documents: 150, seed: 11);
        var merges = BpeTrainer.Train(corpus, vocabSize: 256 + 250, specialTokens: []);

        Assert.Equal(250, merges.Count);
        Assert.Equal(ReferenceMerges(corpus, mergeCount: 250), merges);
    }

    [Fact]
    public void TheVocabularyReachesExactlyTheRequestedSize()
    {
        const int vocabSize = 700;
        var merges = BpeTrainer.Train(SyntheticCorpus(documents: 300, seed: 1), vocabSize, SpecialTokens);

        Assert.Equal(vocabSize - 256 - SpecialTokens.Length, merges.Count);
        Assert.Equal(vocabSize, LoadTrained(merges).VocabSize);
    }

    [Fact]
    public void TrainingStopsShortOfTheSizeWhenNoPairReachesMinFrequency()
    {
        // Each document is one word of distinct letters, so every pair is seen once: no merge at the default
        // minFrequency of 2, and the vocabulary is just the bytes and the special tokens.
        var merges = BpeTrainer.Train(["abc", "def", "ghi"], vocabSize: 1000, SpecialTokens);

        Assert.Empty(merges);
        Assert.Equal(256 + SpecialTokens.Length, LoadTrained(merges).VocabSize);
    }

    [Fact]
    public void AVocabularyTooSmallForTheBytesAndSpecialTokensIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["abc"], vocabSize: 258, SpecialTokens));
    }

    public static TheoryData<string> Texts => new()
    {
        "Hello, world!",
        "café naïve résumé — ÅÄÖ ß",
        "日本語のテキスト、中文文本，한국어",
        "😀 🇺🇸 👍🏽 family 👨‍👩‍👧‍👦 coder 👩🏽‍💻",
        "math 𝐀𝐁𝐂 and 𠮷野家",
        "two  spaces,   three,\ttab,\t\ttwo tabs",
        "line\n\nparagraph\r\nwindows\n",
        "   leading and trailing   ",
        "def f(x):\n    return {'a': [1, 2]}\n",
        "100,000.50 + 3.14159 = 1e-9",
        "<|im_start|>user\nHi<|im_end|><|endoftext|>",
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void ATrainedTokenizerGivesBackAnyTextExactly(string text)
    {
        var tokenizer = LoadTrained(BpeTrainer.Train(SyntheticCorpus(documents: 300, seed: 3), vocabSize: 800, SpecialTokens));

        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void FrequentWordsOfTheCorpusBecomeSingleTokens()
    {
        var corpus = Enumerable.Range(0, 50).Select(i => $"hello world, the tokenizer says hello {i} times").ToArray();
        var tokenizer = LoadTrained(BpeTrainer.Train(corpus, vocabSize: 400, SpecialTokens));

        Assert.Single(tokenizer.Encode(" hello"));
        Assert.Single(tokenizer.Encode("hello"));
        Assert.Single(tokenizer.Encode(" tokenizer"));
        Assert.NotEqual(1, tokenizer.Encode(" goodbye").Count);
    }

    [Fact]
    public void SpecialTokensInTheCorpusStayWholeAndTeachNoMerges()
    {
        // The special tokens are the only place "im_end" is written, so if they were not cut out of the
        // corpus before counting, their pieces ("<|", "im", "_end") would be learned like any frequent text.
        var corpus = Enumerable.Range(0, 50).Select(_ => "<|im_start|>user\nsay something<|im_end|>").ToArray();
        var merges = BpeTrainer.Train(corpus, vocabSize: 400, SpecialTokens, minFrequency: 1);
        var tokenizer = LoadTrained(merges);

        Assert.DoesNotContain(merges, m => (m.Left + m.Right).Contains('|') || (m.Left + m.Right).Contains("im"));
        var ids = tokenizer.Encode("<|im_start|>user\nsay something<|im_end|>");
        Assert.Equal(tokenizer.TokenToId("<|im_start|>"), ids[0]);
        Assert.Equal(tokenizer.TokenToId("<|im_end|>"), ids[^1]);
        Assert.True(tokenizer.IsSpecial(ids[0]) && tokenizer.IsSpecial(ids[^1]));
    }

    private Tokenizer LoadTrained(IReadOnlyList<(string Left, string Right)> merges)
    {
        var path = Path.Combine(_directory, "tokenizer.json");
        TokenizerJson.WriteByteLevel(path, merges, SpecialTokens);
        return Tokenizer.Load(path);
    }

    private static List<(string Left, string Right)> ReferenceMerges(string[] corpus, int mergeCount)
    {
        // The same split as the trainer's (the internal pre-tokenizers the loader builds for this file), so
        // only the merge loop is being checked.
        var split = new SequencePreTokenizer(
        [
            new SplitPreTokenizer(
                PatternSplitter.ForRegex(PatternSplitter.CompileOnigurumaPattern(TokenizerJson.SplitPattern)),
                SplitBehavior.Isolated),
            new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false),
        ]);
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var document in corpus)
        {
            var pieces = new List<Piece>();
            split.PreTokenize([new Piece(document, true)], pieces);
            foreach (var piece in pieces)
                words[piece.Text] = words.GetValueOrDefault(piece.Text) + 1;
        }
        var spelled = words.Select(w => (Symbols: w.Key.Select(c => c.ToString()).ToList(), Count: w.Value)).ToList();
        var tokens = new HashSet<string>(Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.ByteToChar[b].ToString()), StringComparer.Ordinal);
        var merges = new List<(string Left, string Right)>();
        var skipped = new HashSet<(string, string)>();
        while (merges.Count < mergeCount)
        {
            var counts = new Dictionary<(string Left, string Right), int>();
            foreach (var (symbols, count) in spelled)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                    counts[(symbols[i], symbols[i + 1])] = counts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            }
            var best = counts
                .Where(c => c.Value >= 2 && !skipped.Contains(c.Key))
                .OrderByDescending(c => c.Value)
                .ThenBy(c => c.Key.Left, StringComparer.Ordinal)
                .ThenBy(c => c.Key.Right, StringComparer.Ordinal)
                .Select(c => c.Key)
                .FirstOrDefault();
            if (best == default)
                break;
            if (!tokens.Add(best.Left + best.Right))
            {
                skipped.Add(best);
                continue;
            }
            merges.Add(best);
            foreach (var (symbols, _) in spelled)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Left && symbols[i + 1] == best.Right)
                    {
                        symbols[i] = best.Left + best.Right;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    // Varied text with repeated words, mixed scripts, numbers, punctuation and whitespace runs, so training
    // has thousands of distinct pairs to choose from and meets every kind of piece the split regex makes.
    private static string[] SyntheticCorpus(int documents, int seed)
    {
        var random = new Random(seed);
        string[] words =
        [
            "the", "model", "token", "chat", "reply", "blazor", "server", "naïve", "café", "Привет", "мир",
            "日本語", "テキスト", "😀", "👍🏽", "don't", "it's", "we're", "42", "3.14", "1999", "(x)", "{y}", "->",
        ];
        // Made-up words from these syllables keep new pairs coming, so training does not run out of them.
        string[] syllables = ["ka", "lo", "mi", "ner", "st", "qu", "ou", "é", "zh", "in", "gr", "ed", "ly"];
        var corpus = new string[documents];
        for (var d = 0; d < documents; d++)
        {
            var text = new StringBuilder();
            for (var w = 0; w < 40; w++)
            {
                if (random.Next(2) == 0)
                {
                    text.Append(words[random.Next(words.Length)]);
                }
                else
                {
                    for (var s = random.Next(2, 5); s > 0; s--)
                        text.Append(syllables[random.Next(syllables.Length)]);
                }
                text.Append(random.Next(12) switch
                {
                    0 => ",  ",
                    1 => ".\n",
                    2 => "\n\n",
                    3 => "\t",
                    _ => " ",
                });
            }
            corpus[d] = text.ToString();
        }
        return corpus;
    }
}
