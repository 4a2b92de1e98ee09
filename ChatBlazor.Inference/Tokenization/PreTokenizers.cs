using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// A stretch of text on its way to the BPE model. <see cref="AtStart"/> says whether it begins at offset 0
/// of the text given to Encode, which Metaspace's "first" prepend scheme asks about.
/// </summary>
internal readonly record struct Piece(string Text, bool AtStart);

/// <summary>A tokenizer.json "pre_tokenizer": cuts pieces into the words BPE sees, and may rewrite them.</summary>
internal abstract class PreTokenizer
{
    public abstract void PreTokenize(List<Piece> pieces, List<Piece> output);

    protected static void AddSplits(Piece piece, PatternSplitter splitter, SplitBehavior behavior, List<Piece> output)
    {
        var ranges = new List<TextRange>();
        splitter.Split(piece.Text, behavior, ranges);
        foreach (var range in ranges)
        {
            var text = range.Start == 0 && range.End == piece.Text.Length
                ? piece.Text
                : piece.Text[range.Start..range.End];
            output.Add(new Piece(text, piece.AtStart && range.Start == 0));
        }
    }
}

internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public override void PreTokenize(List<Piece> pieces, List<Piece> output)
    {
        var current = pieces;
        foreach (var step in steps)
        {
            var next = new List<Piece>(current.Count * 2);
            step.PreTokenize(current, next);
            current = next;
        }
        output.AddRange(current);
    }
}

internal sealed class SplitPreTokenizer(PatternSplitter splitter, SplitBehavior behavior) : PreTokenizer
{
    public override void PreTokenize(List<Piece> pieces, List<Piece> output)
    {
        foreach (var piece in pieces)
            AddSplits(piece, splitter, behavior, output);
    }
}

/// <summary>
/// Maps each piece's UTF-8 bytes to GPT-2's byte alphabet, optionally after splitting with the regex that
/// Hugging Face builds into this pre-tokenizer (use_regex). Llama 3 and Qwen2 turn use_regex off and put
/// their own regex in a Split before it; GPT-2 and SmolLM rely on the built-in one.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    // Hugging Face's fixed ByteLevel regex (pre_tokenizers/byte_level.rs). It is part of the pre-tokenizer's
    // definition, not of the file, which is why it is spelled out here.
    private static readonly PatternSplitter Gpt2Splitter = PatternSplitter.ForRegex(
        PatternSplitter.CompileOnigurumaPattern(
            @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"));

    public override void PreTokenize(List<Piece> pieces, List<Piece> output)
    {
        var split = new List<Piece>();
        foreach (var piece in pieces)
        {
            var prefixed = addPrefixSpace && !piece.Text.StartsWith(' ') ? piece with { Text = " " + piece.Text } : piece;
            if (useRegex)
                AddSplits(prefixed, Gpt2Splitter, SplitBehavior.Isolated, split);
            else
                split.Add(prefixed);
        }
        foreach (var piece in split)
            output.Add(piece with { Text = ByteLevelAlphabet.Encode(piece.Text) });
    }
}

/// <summary>
/// SentencePiece's space handling as a pre-tokenizer (Mistral v0.3 and Llama files converted with
/// legacy=false): spaces become ▁, a ▁ is prepended per the scheme, and optionally the text is cut before each ▁.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : PreTokenizer
{
    private readonly PatternSplitter _splitter = PatternSplitter.ForLiteral(replacement.ToString());

    public override void PreTokenize(List<Piece> pieces, List<Piece> output)
    {
        foreach (var piece in pieces)
        {
            var text = piece.Text.Replace(' ', replacement);
            var prepend = prependScheme switch
            {
                PrependScheme.Always => true,
                // Only the text at the very start of the input: after "[INST]" the user's words get no ▁
                // unless they begin with a space.
                PrependScheme.First => piece.AtStart,
                _ => false,
            };
            if (prepend && !text.StartsWith(replacement))
                text = replacement + text;

            if (split)
                AddSplits(new Piece(text, piece.AtStart), _splitter, SplitBehavior.MergedWithNext, output);
            else
                output.Add(new Piece(text, piece.AtStart));
        }
    }
}

internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>Cuts numbers into single digits or digit runs (SmolLM puts this before its ByteLevel).</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    // Rust's char::is_numeric is the Unicode N* categories, which is what \p{N} means.
    private static readonly PatternSplitter DigitSplitter =
        PatternSplitter.ForRegex(PatternSplitter.CompileOnigurumaPattern(@"\p{N}"));

    public override void PreTokenize(List<Piece> pieces, List<Piece> output)
    {
        var behavior = individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous;
        foreach (var piece in pieces)
            AddSplits(piece, DigitSplitter, behavior, output);
    }
}
