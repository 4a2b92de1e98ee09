using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>
/// Real vocabularies cut down to about a thousand merges (GPT-2, Mistral 7B), each in the shape of a real model
/// family's tokenizer.json, against ids and text produced by Hugging Face's tokenizers.js.
/// </summary>
public class ReferenceFixtureTests
{
    public static TheoryData<string> Fixtures => new()
    {
        "gpt2-1k",
        "llama3-style-1k",
        "mistral-legacy-1500",
        "mistral-metaspace-1500",
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void EncodeGivesTheReferenceIds(string fixture)
    {
        var tokenizer = TokenizerFiles.LoadFixture(fixture);

        foreach (var @case in ReferenceExpectations.Load(fixture).Encode)
            Assert.True(@case.Ids.SequenceEqual(tokenizer.Encode(@case.Text)), $"{fixture}: {Show(@case.Text)}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DecodeGivesTheReferenceText(string fixture)
    {
        var tokenizer = TokenizerFiles.LoadFixture(fixture);

        foreach (var (ids, decoded, decodedSkippingSpecial) in ReferenceExpectations.Load(fixture).AllDecodes())
        {
            Assert.Equal(decoded, tokenizer.Decode(ids));
            Assert.Equal(decodedSkippingSpecial, tokenizer.Decode(ids, skipSpecialTokens: true));
        }
    }

    [Fact]
    public void LettersOutsideTheBasicPlaneAreLettersToTheSplitRegex()
    {
        // .NET regexes see the two halves of 𝐀 (U+1D400) as surrogates, not letters; the Rust library sees one
        // letter. In "a𝐀's" that decides whether "'s" is a contraction piece: the reference says it is.
        var expected = ReferenceExpectations.Load("llama3-style-1k").Encode.Single(c => c.Text.StartsWith("a𝐀's"));
        var tokenizer = TokenizerFiles.LoadFixture("llama3-style-1k");

        Assert.Equal(expected.Ids, tokenizer.Encode(expected.Text));
    }

    [Fact]
    public void EncodingFromManyThreadsAtOnceGivesTheSameIds()
    {
        var tokenizer = TokenizerFiles.LoadFixture("llama3-style-1k");
        var cases = ReferenceExpectations.Load("llama3-style-1k").Encode;

        Parallel.For(0, cases.Count * 8, i =>
        {
            var @case = cases[i % cases.Count];
            Assert.True(@case.Ids.SequenceEqual(tokenizer.Encode(@case.Text)), Show(@case.Text));
        });
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
