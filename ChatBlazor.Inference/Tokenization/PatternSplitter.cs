using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>What a split keeps of each delimiter (Hugging Face's SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>A span of text and whether the pattern matched it.</summary>
internal readonly record struct TextRange(int Start, int End, bool IsMatch);

/// <summary>
/// Finds a pattern (a regex or a literal) in text and cuts the text the way Hugging Face's
/// NormalizedString.split does, so pre-tokenizers built on it split exactly like the Rust library.
/// </summary>
internal sealed class PatternSplitter
{
    private readonly Regex? _regex;
    private readonly string? _literal;
    private readonly bool _invert;

    private PatternSplitter(Regex? regex, string? literal, bool invert)
    {
        _regex = regex;
        _literal = literal;
        _invert = invert;
    }

    public static PatternSplitter ForRegex(Regex regex, bool invert = false) => new(regex, null, invert);

    public static PatternSplitter ForLiteral(string literal, bool invert = false) => new(null, literal, invert);

    /// <summary>
    /// Compiles a pattern written for Oniguruma (the Rust library's engine) with .NET's. What real tokenizer files
    /// use (\p{L}, \p{N}, (?i:...), lookahead, greedy quantifiers) means the same in both; what .NET rejects
    /// (possessive quantifiers, for one) throws ArgumentException, which the loader reports with the field.
    /// </summary>
    public static Regex CompileOnigurumaPattern(string pattern) =>
        new(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>Cuts <paramref name="text"/> and adds the non-empty pieces to <paramref name="pieces"/>.</summary>
    public void Split(string text, SplitBehavior behavior, List<TextRange> pieces)
    {
        var matches = new List<TextRange>();
        FindMatches(text, matches);
        var start = pieces.Count;
        ApplyBehavior(matches, behavior, pieces);
        // Hugging Face drops empty splits after every split, whatever the behaviour.
        for (var i = pieces.Count - 1; i >= start; i--)
        {
            if (pieces[i].Start == pieces[i].End)
                pieces.RemoveAt(i);
        }
    }

    /// <summary>Covers the whole text with alternating non-match and match spans, in order.</summary>
    public void FindMatches(string text, List<TextRange> output)
    {
        if (text.Length == 0)
        {
            output.Add(new TextRange(0, 0, false));
            return;
        }

        var previous = 0;
        void Add(int start, int end)
        {
            if (previous != start)
                output.Add(new TextRange(previous, start, _invert));
            output.Add(new TextRange(start, end, !_invert));
            previous = end;
        }

        if (_literal is not null)
        {
            if (_literal.Length > 0)
            {
                for (var at = text.IndexOf(_literal, StringComparison.Ordinal); at >= 0;
                     at = text.IndexOf(_literal, at + _literal.Length, StringComparison.Ordinal))
                    Add(at, at + _literal.Length);
            }
        }
        else if (!HasSurrogate(text))
        {
            foreach (var match in _regex!.EnumerateMatches(text))
                Add(match.Index, match.Index + match.Length);
        }
        else
        {
            // .NET regexes see UTF-16 code units, so \p{L} never matches a letter outside the BMP (𝐀, 𠮷):
            // both halves of its surrogate pair are category Cs. Oniguruma sees code points. Matching on a
            // stand-in string where each astral code point is one BMP character of the same category, then
            // mapping the spans back, gives the code-point semantics the vocabulary was trained with.
            var (proxy, originalIndex) = BuildProxy(text);
            foreach (var match in _regex!.EnumerateMatches(proxy))
                Add(originalIndex[match.Index], originalIndex[match.Index + match.Length]);
        }

        if (previous != text.Length)
            output.Add(new TextRange(previous, text.Length, _invert));
    }

    private static void ApplyBehavior(List<TextRange> matches, SplitBehavior behavior, List<TextRange> pieces)
    {
        // A direct port of NormalizedString::split's folds; the asymmetries (a delimiter that follows
        // another delimiter is not merged) are deliberate, Metaspace relies on them for runs of spaces.
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var m in matches)
                    pieces.Add(m with { IsMatch = false });
                break;

            case SplitBehavior.Removed:
                foreach (var m in matches)
                {
                    if (!m.IsMatch)
                        pieces.Add(m);
                }
                break;

            case SplitBehavior.Contiguous:
            {
                var first = pieces.Count;
                var previousMatch = false;
                foreach (var m in matches)
                {
                    if (m.IsMatch == previousMatch && pieces.Count > first)
                        pieces[^1] = pieces[^1] with { End = m.End };
                    else
                        pieces.Add(m with { IsMatch = false });
                    previousMatch = m.IsMatch;
                }
                break;
            }

            case SplitBehavior.MergedWithPrevious:
            {
                var first = pieces.Count;
                var previousMatch = false;
                foreach (var m in matches)
                {
                    if (m.IsMatch && !previousMatch && pieces.Count > first)
                        pieces[^1] = pieces[^1] with { End = m.End };
                    else
                        pieces.Add(m with { IsMatch = false });
                    previousMatch = m.IsMatch;
                }
                break;
            }

            case SplitBehavior.MergedWithNext:
            {
                var merged = new List<TextRange>();
                var previousMatch = false;
                for (var i = matches.Count - 1; i >= 0; i--)
                {
                    var m = matches[i];
                    if (m.IsMatch && !previousMatch && merged.Count > 0)
                        merged[^1] = merged[^1] with { Start = m.Start };
                    else
                        merged.Add(m with { IsMatch = false });
                    previousMatch = m.IsMatch;
                }
                merged.Reverse();
                pieces.AddRange(merged);
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(behavior));
        }
    }

    private static bool HasSurrogate(string text) =>
        text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;

    private static (string Proxy, int[] OriginalIndex) BuildProxy(string text)
    {
        var proxy = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        var i = 0;
        while (i < text.Length)
        {
            originalIndex.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                proxy.Append(CategoryStandIns[(int)category]);
                i += 2;
            }
            else
            {
                proxy.Append(text[i]);
                i++;
            }
        }
        originalIndex.Add(text.Length);
        return (proxy.ToString(), originalIndex.ToArray());
    }

    // One BMP character per general category, taken from U+0100 upwards so that no ASCII or Latin-1
    // character a pattern might spell out literally (\r, \n, ', s, ...) is ever used as a stand-in.
    private static readonly char[] CategoryStandIns = BuildCategoryStandIns();

    private static char[] BuildCategoryStandIns()
    {
        var standIns = new char[32];
        Array.Fill(standIns, '\uFFFD');
        var found = new bool[32];
        for (int c = 0x100; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
                continue;
            var category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (!found[category])
            {
                found[category] = true;
                standIns[category] = (char)c;
            }
        }
        return standIns;
    }
}
