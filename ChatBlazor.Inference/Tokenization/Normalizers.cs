using System.Text;
using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// A tokenizer.json "normalizer". Hugging Face runs it on each stretch of text between added tokens, so
/// Llama-2's Prepend("▁") adds a ▁ after every special token written in the text, as the model saw in training.
/// </summary>
internal abstract class Normalizer
{
    public abstract string Normalize(string text);
}

internal sealed class SequenceNormalizer(IReadOnlyList<Normalizer> steps) : Normalizer
{
    public override string Normalize(string text)
    {
        foreach (var step in steps)
            text = step.Normalize(text);
        return text;
    }
}

internal sealed class PrependNormalizer(string prefix) : Normalizer
{
    // Empty text stays empty: a prefix on nothing would invent a token.
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

internal sealed class ReplaceNormalizer : Normalizer
{
    private readonly string? _literal;
    private readonly Regex? _regex;
    private readonly string _content;

    public ReplaceNormalizer(string? literal, Regex? regex, string content)
    {
        _literal = literal;
        _regex = regex;
        _content = content;
    }

    public override string Normalize(string text)
    {
        if (_literal is not null)
            return _literal.Length == 0 ? text : text.Replace(_literal, _content, StringComparison.Ordinal);
        // Regex.Replace would expand $1 and the like in the content; Hugging Face inserts it verbatim.
        return _regex!.Replace(text, _ => _content);
    }
}

internal sealed class UnicodeNormalizer(NormalizationForm form) : Normalizer
{
    public override string Normalize(string text) => text.IsNormalized(form) ? text : text.Normalize(form);
}
