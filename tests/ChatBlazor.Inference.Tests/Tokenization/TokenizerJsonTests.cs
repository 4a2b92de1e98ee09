using System.Text.Json;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

public class TokenizerJsonTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string PathFor(string name = "tokenizer.json") => Path.Combine(_folder.Path, name);

    [Fact]
    public void WrittenFileLoadsWithBytesThenMergesThenSpecialTokens()
    {
        var path = PathFor();
        TokenizerJson.WriteByteLevel(path, [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w")], ["<|im_start|>", "<|im_end|>"]);
        var tokenizer = Tokenizer.Load(path);

        // 256 bytes, merges 256–260, special tokens 261 and 262.
        Assert.Equal(263, tokenizer.VocabSize);
        Assert.Equal(259, tokenizer.TokenToId("hello"));
        Assert.Equal(262, tokenizer.TokenToId("<|im_end|>"));
        // GPT-2 spells the space byte (0x20) "Ġ" and keeps printable ASCII as itself.
        Assert.Equal("Ġ", tokenizer.IdToToken(0x20));
        Assert.Equal("h", tokenizer.IdToToken(0x68));
        Assert.True(tokenizer.IsSpecial(261));
        Assert.False(tokenizer.IsSpecial(259));

        // "hello" → h e l l o → he (0) → ll (1) → hell (2) → hello (3) = 259; " world" → Ġw (260) o r l d.
        Assert.Equal([261, 259, 260, 0x6F, 0x72, 0x6C, 0x64, 262], tokenizer.Encode("<|im_start|>hello world<|im_end|>"));
        Assert.Equal("hello world", tokenizer.Decode([261, 259, 260, 0x6F, 0x72, 0x6C, 0x64, 262], skipSpecialTokens: true));
    }

    [Fact]
    public void WrittenFileHasTheBlocksOfARealByteLevelTokenizer()
    {
        var path = PathFor();
        TokenizerJson.WriteByteLevel(path, [("Ġ", "t")], ["<|endoftext|>"]);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;

        Assert.Equal("BPE", root.GetProperty("model").GetProperty("type").GetString());
        Assert.Equal("Split", root.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("type").GetString());
        Assert.Equal("ByteLevel", root.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[1].GetProperty("type").GetString());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());
        Assert.True(root.GetProperty("added_tokens")[0].GetProperty("special").GetBoolean());
        Assert.Equal(257, root.GetProperty("added_tokens")[0].GetProperty("id").GetInt32());
    }

    [Fact]
    public void AnyUtf8RoundTripsThroughAWrittenFile()
    {
        var path = PathFor();
        TokenizerJson.WriteByteLevel(path, [("Ġ", "t"), ("h", "e"), ("Ġt", "he")], []);
        var tokenizer = Tokenizer.Load(path);
        const string text = "the cat — 日本語 😀👍🏽\n\ttabs  and  spaces  ";

        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        Assert.Equal([258], tokenizer.Encode(" the"));
    }

    [Fact]
    public void AMergeOfTokensThatDoNotExistYetIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => TokenizerJson.WriteByteLevel(PathFor(), [("he", "llo")], []));
        Assert.Contains("merges[0]", error.Message);
    }

    [Fact]
    public void AMergeThatWouldNotAddANewTokenIsRejected()
    {
        // "ab" + "c" and "a" + "bc" both make "abc"; the second would not get id 256 + i.
        var error = Assert.Throws<ArgumentException>(() =>
            TokenizerJson.WriteByteLevel(PathFor(), [("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")], []));
        Assert.Contains("merges[3]", error.Message);
    }

    [Fact]
    public void ASpecialTokenThatIsAlreadyATokenIsRejected()
    {
        Assert.Throws<ArgumentException>(() => TokenizerJson.WriteByteLevel(PathFor(), [], ["a"]));
        Assert.Throws<ArgumentException>(() => TokenizerJson.WriteByteLevel(PathFor(), [], ["<x>", "<x>"]));
    }
}
