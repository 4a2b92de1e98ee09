using System.Text.Json.Nodes;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>Byte-level BPE (Llama 3 / SmolLM / Qwen2 shape) on <see cref="HandWrittenTokenizers.Llama3Style"/>.</summary>
public class ByteLevelTokenizerTests
{
    private static readonly Tokenizer Llama3Style = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style);

    [Fact]
    public void WordsAreMergedLowestRankFirst()
    {
        // "Hello": H e l l o → (l,l) rank 0 → H e ll o → (H,e) rank 1 → He ll o → (He,ll) 2 → Hell o → (Hell,o) 3
        // → Hello = 19. " world" → Ġ w o r l d → Ġw (4), or (5), Ġwor (6), ld (7), Ġworld (8) = 24.
        Assert.Equal([19, 24], Llama3Style.Encode("Hello world"));
    }

    [Fact]
    public void PunctuationTakesTheNewlinesThatFollowIt()
    {
        // The regex branch " ?[^\s\p{L}\p{N}]+[\r\n]*" keeps "!\n\n" together: ! Ċ Ċ → ! ĊĊ (rank 9) = 9, 25.
        Assert.Equal([19, 24, 9, 25], Llama3Style.Encode("Hello world!\n\n"));
    }

    [Fact]
    public void ARunOfSpacesLeavesTheLastSpaceToTheNextWord()
    {
        // "\s+(?!\S)" takes one of the two spaces (Ġ = 4); the other starts " world" (24).
        Assert.Equal([19, 4, 24], Llama3Style.Encode("Hello  world"));
        // Trailing spaces are one piece: Ġ Ġ → ĠĠ (rank 10) = 26.
        Assert.Equal([19, 26], Llama3Style.Encode("Hello  "));
    }

    [Fact]
    public void ContractionsAndDigitGroupsAreSplitByTheFilesRegex()
    {
        // "'s" is its own piece: ' s → 's (rank 11) = 27.
        Assert.Equal([19, 27], Llama3Style.Encode("Hello's"));
        // \p{N}{1,3}: "123" then "4"; 1 2 3 → 12 (rank 12) → 123 (rank 13) = 29, then 4 = 15.
        Assert.Equal([29, 15], Llama3Style.Encode("1234"));
    }

    [Fact]
    public void TheSplitPatternComesFromTheFile()
    {
        // With a regex that isolates every character no merge can apply: "Hello" becomes its five letters.
        var perCharacter = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style, root =>
            root["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = ".");

        Assert.Equal([0, 1, 2, 2, 3], perCharacter.Encode("Hello"));
    }

    [Fact]
    public void IgnoreMergesTakesAWordThatIsInTheVocabularyWhole()
    {
        // "Ġold" (30) is in the vocabulary although no merge builds it.
        Assert.Equal([30], Llama3Style.Encode(" old"));

        // Without ignore_merges BPE runs: Ġ o l d → only (l,d) has a merge (rank 7) → Ġ o ld = 4, 3, 23.
        var withoutIgnoreMerges = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style, root =>
            root["model"]!["ignore_merges"] = false);
        Assert.Equal([4, 3, 23], withoutIgnoreMerges.Encode(" old"));
    }

    [Fact]
    public void SpecialTokensWrittenInTheTextBecomeTheirIds()
    {
        Assert.Equal([100, 19, 101], Llama3Style.Encode("<|begin_of_text|>Hello<|eot_id|>"));
        Assert.Equal([102, 19], Llama3Style.Encode("<|reserved|>Hello"));
    }

    [Fact]
    public void EncodeAddsNoBeginningOfSequenceToken()
    {
        // The file's post_processor would add <|begin_of_text|> (100); the chat template does that instead.
        Assert.Equal([19], Llama3Style.Encode("Hello"));
        Assert.Empty(Llama3Style.Encode(""));
    }

    [Fact]
    public void DecodeJoinsTheBytesOfEveryToken()
    {
        Assert.Equal("Hello world!\n\n", Llama3Style.Decode([19, 24, 9, 25]));
        Assert.Equal("Hello  world", Llama3Style.Decode([19, 4, 24]));
    }

    [Fact]
    public void DecodeSkipsOnlySpecialAddedTokensWhenAsked()
    {
        int[] ids = [100, 19, 102, 101];

        Assert.Equal("<|begin_of_text|>Hello<|reserved|><|eot_id|>", Llama3Style.Decode(ids));
        Assert.Equal("Hello<|reserved|>", Llama3Style.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void DecodeSkipsIdsThatNameNoToken()
    {
        // 50 lies in the unused range; 1000 and -1 are outside the vocabulary.
        Assert.Equal("Hello world", Llama3Style.Decode([19, 50, 1000, -1, 24]));
    }

    [Fact]
    public void VocabularyLookupsIncludeAddedTokens()
    {
        Assert.Equal(103, Llama3Style.VocabSize);
        Assert.Equal(19, Llama3Style.TokenToId("Hello"));
        Assert.Equal(101, Llama3Style.TokenToId("<|eot_id|>"));
        Assert.Null(Llama3Style.TokenToId("Goodbye"));
        Assert.Equal("Ġworld", Llama3Style.IdToToken(24));
        Assert.Equal("<|begin_of_text|>", Llama3Style.IdToToken(100));
        Assert.Null(Llama3Style.IdToToken(50));
        Assert.Null(Llama3Style.IdToToken(103));
        Assert.Null(Llama3Style.IdToToken(-1));
    }

    [Fact]
    public void OnlyAddedTokensMarkedSpecialAreSpecial()
    {
        Assert.True(Llama3Style.IsSpecial(100));
        Assert.True(Llama3Style.IsSpecial(101));
        Assert.False(Llama3Style.IsSpecial(102));
        Assert.False(Llama3Style.IsSpecial(19));
        Assert.False(Llama3Style.IsSpecial(5000));
    }

    [Fact]
    public void TheBuiltInByteLevelRegexKeepsASpaceInFrontOfANumber()
    {
        // Add "Ġ4" (31) with a merge Ġ + 4. GPT-2 / SmolLM files leave the regex to ByteLevel (use_regex: true),
        // whose " ?\p{N}+" makes " 4" one piece → Ġ4. Llama 3's regex gives numbers no leading space, so " "
        // and "4" are separate pieces and cannot merge.
        void AddSpaceFour(JsonObject root)
        {
            root["model"]!["vocab"]!["Ġ4"] = 31;
            root["model"]!["merges"]!.AsArray().Add(TokenizerFiles.Node("""["Ġ", "4"]"""));
        }
        var llama3 = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style, AddSpaceFour);
        var gpt2 = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style, root =>
        {
            AddSpaceFour(root);
            root["pre_tokenizer"] = TokenizerFiles.Node("""{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""");
        });

        Assert.Equal([19, 31], gpt2.Encode("Hello 4"));
        Assert.Equal([19, 4, 15], llama3.Encode("Hello 4"));
    }

    [Fact]
    public void DigitsPreTokenizerSplitsNumbersIntoSingleDigitsBeforeByteLevel()
    {
        // SmolLM: Digits(individual_digits) then ByteLevel with its regex. "123" can no longer merge.
        var smolLmStyle = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style, root =>
            root["pre_tokenizer"] = TokenizerFiles.Node("""
                {"type": "Sequence", "pretokenizers": [
                  {"type": "Digits", "individual_digits": true},
                  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}
                """));

        Assert.Equal([12, 13, 14], smolLmStyle.Encode("123"));
    }

    [Fact]
    public void NfcNormalizerMakesDecomposedAndComposedAccentsTheSameTokens()
    {
        // Qwen2 normalizes to NFC first. Written with WriteByteLevel, so every byte b is token b:
        // é is C3 A9 in UTF-8; e + U+0301 is 65 CC 81.
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "tokenizer.json");
        TokenizerJson.WriteByteLevel(path, [], []);
        var plain = Tokenizer.Load(path);
        File.WriteAllText(path, TokenizerFiles.Patch(File.ReadAllText(path), root =>
            root["normalizer"] = TokenizerFiles.Node("""{"type": "NFC"}""")));
        var qwenStyle = Tokenizer.Load(path);

        Assert.Equal([0xC3, 0xA9], qwenStyle.Encode("e\u0301"));
        Assert.Equal([0xC3, 0xA9], qwenStyle.Encode("é"));
        Assert.Equal([0x65, 0xCC, 0x81], plain.Encode("e\u0301"));
    }

    [Fact]
    public void AddedTokenFlagsStripWhitespaceAndRespectWordBoundaries()
    {
        var flagged = TokenizerFiles.LoadJson(HandWrittenTokenizers.Llama3Style, root =>
        {
            var added = root["added_tokens"]!.AsArray();
            added.Add(TokenizerFiles.Node("""{"id": 103, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true}"""));
            added.Add(TokenizerFiles.Node("""{"id": 104, "content": "<sep>", "single_word": false, "lstrip": false, "rstrip": true, "normalized": false, "special": true}"""));
            added.Add(TokenizerFiles.Node("""{"id": 105, "content": "ll", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false}"""));
        });

        // lstrip swallows the spaces before <mask>; rstrip those after <sep>.
        Assert.Equal([19, 103, 19], flagged.Encode("Hello  <mask>Hello"));
        Assert.Equal([19, 104, 19], flagged.Encode("Hello<sep>  Hello"));
        // single_word: "ll" inside "Hello" is not the added token, but standing alone it is.
        Assert.Equal([19], flagged.Encode("Hello"));
        Assert.Equal([19, 4, 105], flagged.Encode("Hello ll"));
    }
}
