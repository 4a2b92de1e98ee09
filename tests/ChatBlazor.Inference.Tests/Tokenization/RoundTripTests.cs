using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>
/// Decode(Encode(text)) == text wherever Hugging Face's tokenizers are lossless: always for byte-level BPE, and
/// for Llama-2-style SentencePiece on text without special tokens (its decoder drops exactly the ▁ the
/// normalizer added).
/// </summary>
public class RoundTripTests
{
    public static TheoryData<string> Texts => new()
    {
        "Hello, world!",
        "café naïve résumé — ÅÄÖ ß",
        "cafe\u0301 (combining accent kept as written)",
        "日本語のテキスト、中文文本，한국어",
        "Привет, мир! مرحبا नमस्ते",
        "😀 🇺🇸 👍🏽 family 👨‍👩‍👧‍👦 coder 👩🏽‍💻",
        "math 𝐀𝐁𝐂 and 𠮷野家",
        "two  spaces,   three,\ttab,\t\ttwo tabs",
        "line\n\nparagraph\r\nwindows\n",
        "trailing spaces   ",
        "   leading spaces",
        "   ",
        "\n",
        "def f(x):\n    if x:\n        return {'a': [1, 2]}\n    return None\n",
        "int main() {\n\treturn 0;\n}\n",
        "100,000.50 + 3.14159 = 1e-9",
        "\u00a0nbsp\u3000ideographic\u2028line separator",
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void ByteLevelTokenizersGiveBackTheExactText(string text)
    {
        foreach (var fixture in new[] { "gpt2-1k", "llama3-style-1k" })
        {
            var tokenizer = TokenizerFiles.LoadFixture(fixture);
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void LegacySentencePieceGivesBackTheExactText(string text)
    {
        var tokenizer = TokenizerFiles.LoadFixture("mistral-legacy-1500");

        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Theory]
    [InlineData("gpt2-1k", "<|endoftext|>Hi there<|endoftext|>")]
    [InlineData("llama3-style-1k", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>")]
    [InlineData("mistral-metaspace-1500", "[INST] What is 2+2? [/INST]")]
    public void SpecialTokensInsideTextSurviveTheRoundTrip(string fixture, string text)
    {
        var tokenizer = TokenizerFiles.LoadFixture(fixture);
        var ids = tokenizer.Encode(text);

        Assert.Contains(ids, tokenizer.IsSpecial);
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void StreamingTheEncodedTextGivesBackTheExactText(string text)
    {
        foreach (var fixture in new[] { "llama3-style-1k", "mistral-legacy-1500" })
        {
            var tokenizer = TokenizerFiles.LoadFixture(fixture);
            var decoder = tokenizer.NewStreamingDecoder();
            var streamed = string.Concat(tokenizer.Encode(text).Select(decoder.Push)) + decoder.Flush();

            Assert.Equal(text, streamed);
        }
    }
}
