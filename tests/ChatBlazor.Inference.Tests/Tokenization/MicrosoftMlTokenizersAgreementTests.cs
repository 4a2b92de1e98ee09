using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>
/// Microsoft.ML.Tokenizers' BpeTokenizer, built from the GPT-2 fixture's vocab and merges with GPT-2's regex,
/// is a second, independent implementation of byte-level BPE. It splits UTF-16 code units, so texts with
/// characters outside the Basic Multilingual Plane are left out (there the tokenizers.js references decide).
/// </summary>
public class MicrosoftMlTokenizersAgreementTests
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [Fact]
    public void ByteLevelIdsAndTextMatchMicrosoftMlTokenizers()
    {
        var reference = BuildReference(TokenizerFiles.FixturePath("gpt2-1k"));
        var tokenizer = TokenizerFiles.LoadFixture("gpt2-1k");
        var texts = ReferenceExpectations.Load("gpt2-1k").Encode.Select(c => c.Text)
            .Where(text => !text.Any(char.IsSurrogate))
            .Append(string.Join(" ", Enumerable.Repeat("The quick brown fox's 42 jumps;\n\tover  the lazy dog!", 20)))
            .ToList();

        Assert.True(texts.Count > 50);
        foreach (var text in texts)
        {
            var ids = tokenizer.Encode(text);
            Assert.Equal(reference.EncodeToIds(text), ids);
            Assert.Equal(reference.Decode(ids), tokenizer.Decode(ids));
        }
    }

    private static BpeTokenizer BuildReference(string tokenizerJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(tokenizerJson));
        var root = document.RootElement;
        var model = root.GetProperty("model");
        var vocab = model.GetProperty("vocab").EnumerateObject()
            .Select(entry => new KeyValuePair<string, int>(entry.Name, entry.Value.GetInt32()))
            .ToList();
        var merges = model.GetProperty("merges").EnumerateArray().Select(merge => merge.GetString()!).ToList();
        var specialTokens = root.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(token => token.GetProperty("content").GetString()!, token => token.GetProperty("id").GetInt32());

        return BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            SpecialTokens = specialTokens,
            // The library drops spaces and newlines unless it is given the pre-tokenizer regex.
            PreTokenizer = new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), specialTokens),
        });
    }
}
