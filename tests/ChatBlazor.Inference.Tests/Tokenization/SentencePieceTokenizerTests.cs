using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>
/// SentencePiece-style BPE with byte fallback (Llama 2 / Mistral shape) on
/// <see cref="HandWrittenTokenizers.MistralLegacy"/> and <see cref="HandWrittenTokenizers.MistralMetaspace"/>.
/// </summary>
public class SentencePieceTokenizerTests
{
    private static readonly Tokenizer Legacy = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralLegacy);
    private static readonly Tokenizer Metaspace = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralMetaspace);

    [Fact]
    public void TheNormalizerPrependsAMetaspaceAndReplacesSpaces()
    {
        // "▁Hello▁world": ▁ H e l l o ▁ w o r l d. Merges by rank: ▁H (0), ll (1), ▁He (2), ▁Hell (3),
        // ▁Hello (4), ▁w (5), or (6), ▁wor (7), ld (8), ▁world (9) → 24, 29; then ! = 19.
        Assert.Equal([24, 29, 19], Legacy.Encode("Hello world!"));
    }

    [Fact]
    public void ALeadingSpaceBecomesASecondMetaspace()
    {
        // " Hello" → "▁▁Hello". (▁,H) has rank 0, (▁,▁) rank 10, so ▁H wins and the first ▁ stays alone: 11, 24.
        Assert.Equal([11, 24], Legacy.Encode(" Hello"));
    }

    [Fact]
    public void CharactersOutsideTheVocabularyFallBackToByteTokens()
    {
        // "\n" → <0x0A> = 3; 😀 = F0 9F 98 80 → 4 5 6 7; € = E2 82 AC → 8 9 10.
        Assert.Equal([24, 3], Legacy.Encode("Hello\n"));
        Assert.Equal([11, 4, 5, 6, 7], Legacy.Encode("😀"));
        Assert.Equal([11, 8, 9, 10], Legacy.Encode("€"));
        Assert.Equal([11, 31], Legacy.Encode("é"));
    }

    [Fact]
    public void CharactersWithoutByteTokensBecomeOneFusedUnknown()
    {
        // ü is C3 BC and <0xC3> is missing, so ü is <unk> (0); fuse_unk makes "üü" a single <unk>.
        Assert.Equal([20, 0, 19], Legacy.Encode("Hüü!"));

        var unfused = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralLegacy, root => root["model"]!["fuse_unk"] = false);
        Assert.Equal([20, 0, 0, 19], unfused.Encode("Hüü!"));
    }

    [Fact]
    public void AnUnknownCharacterWaitsBehindByteTokensAsInTheRustLibrary()
    {
        // The Rust BPE emits a pending <unk> only when the next in-vocabulary character arrives (or at the end),
        // so "ü😀" comes out as ▁, the emoji's four bytes, then <unk>.
        Assert.Equal([11, 4, 5, 6, 7, 0], Legacy.Encode("ü😀"));
    }

    [Fact]
    public void TextAfterASpecialTokenGetsItsOwnPrependedMetaspace()
    {
        // The normalizer runs on each stretch between added tokens (Llama 2's "legacy" behaviour).
        Assert.Equal([1, 24, 2], Legacy.Encode("<s>Hello</s>"));
    }

    [Fact]
    public void ANormalizedAddedTokenIsFoundInItsNormalizedSpelling()
    {
        // "world" with normalized: true is looked for as the normalizer writes it, "▁world", so it matches
        // after a space but not inside "Helloworld", which BPE splits: ▁Hello w or ld = 24 16 26 28.
        var withAddedWord = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralLegacy, root =>
            root["added_tokens"]!.AsArray().Add(TokenizerFiles.Node(
                """{"id": 32, "content": "world", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false}""")));

        Assert.Equal([24, 32], withAddedWord.Encode("Hello world"));
        Assert.Equal([24, 16, 26, 28], withAddedWord.Encode("Helloworld"));
        // The token's text has no ▁, so the space it swallowed does not come back.
        Assert.Equal("Helloworld", withAddedWord.Decode([24, 32]));
    }

    [Fact]
    public void MetaspaceFirstPrependsOnlyAtTheStartOfTheInput()
    {
        Assert.Equal([24, 29], Metaspace.Encode("Hello world"));
        // After [INST] the text starts with a space, which is the ▁ of ▁Hello.
        Assert.Equal([32, 24, 33], Metaspace.Encode("[INST] Hello[/INST]"));
        // Without that space nothing is prepended: H e l l o → only ll (rank 1) merges → 12 13 21 15.
        Assert.Equal([32, 12, 13, 21, 15], Metaspace.Encode("[INST]Hello"));
    }

    [Fact]
    public void OldMetaspaceFilesWithAddPrefixSpaceStillLoad()
    {
        // Before prepend_scheme existed, Metaspace said add_prefix_space and always split before each ▁:
        // "▁Hello▁▁world" → "▁Hello", "▁", "▁world".
        var old = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralMetaspace, root =>
            root["pre_tokenizer"] = TokenizerFiles.Node("""{"type": "Metaspace", "replacement": "▁", "add_prefix_space": true}"""));

        Assert.Equal([24, 11, 29], old.Encode("Hello  world"));
        Assert.Equal([1, 24], old.Encode("<s>Hello"));
    }

    [Fact]
    public void DecodeTurnsMetaspacesIntoSpacesAndDropsTheFirstOne()
    {
        Assert.Equal("Hello world!", Legacy.Decode([24, 29, 19]));
        // Only one leading space is stripped: "▁" "▁Hello" → "  Hello" → " Hello".
        Assert.Equal(" Hello", Legacy.Decode([11, 24]));
        Assert.Equal("Hello\n", Legacy.Decode([24, 3]));
        Assert.Equal("😀", Legacy.Decode([11, 4, 5, 6, 7]));
    }

    [Fact]
    public void DecodeKeepsTheSpaceAfterASpecialTokenUnlessSpecialTokensAreSkipped()
    {
        // Strip only looks at the very start of the text, which is "<s>".
        Assert.Equal("<s> Hello</s>", Legacy.Decode([1, 24, 2]));
        Assert.Equal("Hello", Legacy.Decode([1, 24, 2], skipSpecialTokens: true));
        Assert.Equal("[INST] Hello[/INST]", Metaspace.Decode([32, 24, 33]));
    }

    [Fact]
    public void AnInvalidRunOfByteTokensDecodesToOneReplacementCharacterPerByte()
    {
        // F0 9F is the start of a 4-byte character cut short: the Rust ByteFallback decoder writes U+FFFD for
        // each byte token of a run that is not valid UTF-8, including the valid-looking ones.
        Assert.Equal("Hello\uFFFD\uFFFD!", Legacy.Decode([24, 4, 5, 19]));
        // A lone continuation byte spoils the whole run it ends: F0 9F 98 80 80 → five U+FFFD.
        Assert.Equal("\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD", Legacy.Decode([4, 5, 6, 7, 7]));
    }

    [Fact]
    public void TheMetaspaceDecoderDropsEveryMetaspaceOfTheFirstToken()
    {
        // Some files decode with Metaspace instead of Replace + Strip. Its first token loses all its ▁, not
        // just one: "▁▁" (30) decodes to nothing.
        var metaspaceDecoder = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralMetaspace, root =>
            root["decoder"] = TokenizerFiles.Node("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}"""));

        Assert.Equal("Hello world", metaspaceDecoder.Decode([24, 29]));
        Assert.Equal(" Hello", metaspaceDecoder.Decode([30, 24]));
    }

    [Fact]
    public void VocabularyLookupsCoverByteAndSpecialTokens()
    {
        Assert.Equal(32, Legacy.VocabSize);
        Assert.Equal(34, Metaspace.VocabSize);
        Assert.Equal(3, Legacy.TokenToId("<0x0A>"));
        Assert.Equal("▁Hello", Legacy.IdToToken(24));
        Assert.True(Legacy.IsSpecial(0));
        Assert.True(Metaspace.IsSpecial(33));
        Assert.False(Legacy.IsSpecial(3));
    }
}
