using System.Text;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

public class StreamingDecoderTests
{
    private static readonly Tokenizer Legacy = TokenizerFiles.LoadJson(HandWrittenTokenizers.MistralLegacy);

    // Bytes only: with WriteByteLevel and no merges, token b is byte b, so any UTF-8 can be pushed byte by byte.
    private static readonly Tokenizer Bytes = WriteBytesOnly();

    private static Tokenizer WriteBytesOnly()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "tokenizer.json");
        TokenizerJson.WriteByteLevel(path, [], ["<|im_end|>"]);
        return Tokenizer.Load(path);
    }

    private static List<string> PushAll(Tokenizer tokenizer, IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var decoder = tokenizer.NewStreamingDecoder(skipSpecialTokens);
        var pieces = ids.Select(decoder.Push).ToList();
        pieces.Add(decoder.Flush());
        return pieces;
    }

    private static int[] Utf8Ids(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    [Fact]
    public void AnEmojiSplitOverByteTokensAppearsOnlyWhenComplete()
    {
        // 😀 = F0 9F 98 80.
        Assert.Equal(["h", "", "", "", "😀", "!", ""], PushAll(Bytes, [0x68, 0xF0, 0x9F, 0x98, 0x80, 0x21]));
    }

    [Fact]
    public void AZwjSequenceArrivesOneCompleteCodePointAtATime()
    {
        // 👨‍👩‍👧 = U+1F468 U+200D U+1F469 U+200D U+1F467: each piece is whole, never half a surrogate pair.
        var pieces = PushAll(Bytes, Utf8Ids("👨‍👩‍👧"));

        Assert.Equal(["👨", "\u200D", "👩", "\u200D", "👧"], pieces.Where(p => p.Length > 0));
    }

    [Fact]
    public void InvalidBytesBecomeReplacementCharactersAtTheSamePlacesAsInDecode()
    {
        // F0 9F then 'A': the cut-short sequence is one U+FFFD, released when 'A' shows it cannot complete.
        Assert.Equal(["", "", "\uFFFDA", ""], PushAll(Bytes, [0xF0, 0x9F, 0x41]));
        // A lone continuation byte can never become valid, so it is replaced at once.
        Assert.Equal(["\uFFFD", "\uFFFD", ""], PushAll(Bytes, [0x80, 0x80]));
        // An incomplete character at the end is replaced by Flush.
        Assert.Equal(["h", "", "", "\uFFFD"], PushAll(Bytes, [0x68, 0xE2, 0x82]));
        Assert.Equal("h\uFFFD", Bytes.Decode([0x68, 0xE2, 0x82]));
    }

    [Fact]
    public void SentencePieceLeadingSpaceIsDroppedOnlyAtTheStartOfTheStream()
    {
        // ▁Hello → "Hello"; ▁world → " world".
        Assert.Equal(["Hello", " world", "!", ""], PushAll(Legacy, [24, 29, 19]));
        // "▁" then "▁Hello": the first space is the one Decode strips, the second one stays.
        Assert.Equal(["", " Hello", ""], PushAll(Legacy, [11, 24]));
        Assert.Equal(" Hello", Legacy.Decode([11, 24]));
    }

    [Fact]
    public void ASkippedSpecialTokenLetsTheNextTokenLoseItsLeadingSpace()
    {
        Assert.Equal(["<s>", " Hello", ""], PushAll(Legacy, [1, 24]));
        Assert.Equal(["", "Hello", ""], PushAll(Legacy, [1, 24], skipSpecialTokens: true));
    }

    [Fact]
    public void ARunOfByteTokensIsHeldUntilItEnds()
    {
        // A later byte token could still turn a valid run into U+FFFDs (the Rust ByteFallback rule), so the
        // emoji appears with the token after it, or at Flush.
        Assert.Equal(["", "", "", "", "", "😀!", ""], PushAll(Legacy, [11, 4, 5, 6, 7, 19]));
        Assert.Equal(["Hello", "", "\n"], PushAll(Legacy, [24, 3]));
        Assert.Equal(["Hello", "", "\uFFFD!", ""], PushAll(Legacy, [24, 4, 19]));
    }

    [Fact]
    public void FlushEndsTheStream()
    {
        var decoder = Legacy.NewStreamingDecoder();
        decoder.Push(24);
        decoder.Flush();

        Assert.Equal("", decoder.Flush());
        Assert.Throws<InvalidOperationException>(() => decoder.Push(29));
    }

    [Theory]
    [InlineData("gpt2-1k")]
    [InlineData("llama3-style-1k")]
    [InlineData("mistral-legacy-1500")]
    [InlineData("mistral-metaspace-1500")]
    public void PushingIdsOneAtATimeGivesTheReferenceDecodeWithoutBrokenCharacters(string fixture)
    {
        var tokenizer = TokenizerFiles.LoadFixture(fixture);
        var expected = ReferenceExpectations.Load(fixture);

        foreach (var (ids, decoded, decodedSkippingSpecial) in expected.AllDecodes())
        {
            foreach (var (skip, reference) in new[] { (false, decoded), (true, decodedSkippingSpecial) })
            {
                var pieces = PushAll(tokenizer, ids, skip);

                Assert.Equal(reference, string.Concat(pieces));
                foreach (var piece in pieces)
                {
                    Assert.True(HasNoLoneSurrogate(piece), $"lone surrogate in a piece of [{string.Join(", ", ids)}]");
                    // A replacement character in a piece is only right where the reference has one too.
                    if (!reference.Contains('\uFFFD'))
                        Assert.DoesNotContain('\uFFFD', piece);
                }
            }
        }
    }

    private static bool HasNoLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return false;
        }
        return true;
    }
}
