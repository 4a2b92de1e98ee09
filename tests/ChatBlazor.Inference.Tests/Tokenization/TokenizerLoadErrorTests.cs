using System.Text.Json.Nodes;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>A file the tokenizer cannot follow exactly is refused with the JSON field that is the problem.</summary>
public class TokenizerLoadErrorTests
{
    private static InvalidDataException LoadFails(string json, Action<JsonObject> edit) =>
        Assert.Throws<InvalidDataException>(() => TokenizerFiles.LoadJson(json, edit));

    [Fact]
    public void AModelOtherThanBpeIsRefusedNamingModelType()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root["model"]!["type"] = "Unigram");
        Assert.Contains("model.type", error.Message);
        Assert.Contains("Unigram", error.Message);
    }

    [Fact]
    public void AMissingModelIsRefusedNamingModel()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root.Remove("model"));
        Assert.Contains("model is missing", error.Message);
    }

    [Fact]
    public void AMergeThatIsNotTwoTokensIsRefusedNamingTheMerge()
    {
        var error = LoadFails(HandWrittenTokenizers.MistralLegacy, root => root["model"]!["merges"]![2] = "▁H e l");
        Assert.Contains("model.merges[2]", error.Message);
    }

    [Fact]
    public void AMergeOfUnknownTokensIsRefusedNamingTheMerge()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root["model"]!["merges"]![1] = TokenizerFiles.Node("""["H", "x"]"""));
        Assert.Contains("model.merges[1]", error.Message);
        Assert.Contains("'x'", error.Message);
    }

    [Fact]
    public void AMergeWhoseResultIsNotInTheVocabularyIsRefused()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root["model"]!["merges"]!.AsArray().Add(TokenizerFiles.Node("""["w", "o"]""")));
        Assert.Contains("model.merges[14]", error.Message);
        Assert.Contains("'wo'", error.Message);
    }

    [Fact]
    public void AnUnsupportedNormalizerInsideASequenceIsRefusedNamingItsPath()
    {
        var error = LoadFails(HandWrittenTokenizers.MistralLegacy, root =>
            root["normalizer"]!["normalizers"]![1] = TokenizerFiles.Node("""{"type": "Precompiled", "precompiled_charsmap": "AAAA"}"""));
        Assert.Contains("normalizer.normalizers[1].type", error.Message);
        Assert.Contains("Precompiled", error.Message);
    }

    [Fact]
    public void AnUnsupportedPreTokenizerIsRefusedNamingItsPath()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root =>
            root["pre_tokenizer"]!["pretokenizers"]![1] = TokenizerFiles.Node("""{"type": "Whitespace"}"""));
        Assert.Contains("pre_tokenizer.pretokenizers[1].type", error.Message);
    }

    [Fact]
    public void ARegexDotNetCannotCompileIsRefusedNamingThePattern()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root =>
            root["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = "(unclosed");
        Assert.Contains("pre_tokenizer.pretokenizers[0].pattern.Regex", error.Message);
    }

    [Fact]
    public void AnUnknownSplitBehaviorIsRefused()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root =>
            root["pre_tokenizer"]!["pretokenizers"]![0]!["behavior"] = "Sideways");
        Assert.Contains("pre_tokenizer.pretokenizers[0].behavior", error.Message);
    }

    [Fact]
    public void ADecoderStepAfterTheTextWasFusedIsRefused()
    {
        var error = LoadFails(HandWrittenTokenizers.MistralLegacy, root =>
            root["decoder"]!["decoders"]!.AsArray().Add(TokenizerFiles.Node("""{"type": "ByteFallback"}""")));
        Assert.Contains("decoder.decoders[4].type", error.Message);
    }

    [Fact]
    public void AnUnsupportedDecoderIsRefused()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root =>
            root["decoder"] = TokenizerFiles.Node("""{"type": "WordPiece", "prefix": "##", "cleanup": true}"""));
        Assert.Contains("decoder.type", error.Message);
    }

    [Fact]
    public void BpeDropoutIsRefused()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root["model"]!["dropout"] = 0.1);
        Assert.Contains("model.dropout", error.Message);
    }

    [Fact]
    public void AnAddedTokenWithoutAnIdIsRefusedNamingIt()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root["added_tokens"]![1]!.AsObject().Remove("id"));
        Assert.Contains("added_tokens[1].id", error.Message);
    }

    [Fact]
    public void AVocabularyIdThatIsNotANumberIsRefused()
    {
        var error = LoadFails(HandWrittenTokenizers.Llama3Style, root => root["model"]!["vocab"]!["Hello"] = "nineteen");
        Assert.Contains("model.vocab[\"Hello\"]", error.Message);
    }

    [Fact]
    public void AFileThatIsNotJsonIsRefused()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "tokenizer.json");
        File.WriteAllText(path, "{ \"model\": ");

        var error = Assert.Throws<InvalidDataException>(() => Tokenizer.Load(path));
        Assert.Contains("not valid JSON", error.Message);
    }
}
