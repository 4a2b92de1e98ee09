using System.Buffers;
using System.Globalization;
using System.Text;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>An entry of tokenizer.json's "added_tokens".</summary>
internal sealed record AddedToken(
    int Id,
    string Content,
    bool SingleWord,
    bool LStrip,
    bool RStrip,
    bool Normalized,
    bool Special);

/// <summary>A stretch of text, or an added token found in it (<see cref="TokenId"/> ≥ 0).</summary>
internal readonly record struct Segment(int Start, int End, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}

/// <summary>
/// Finds added tokens written literally in text the way Hugging Face's AddedVocabulary does: leftmost-longest
/// matches, scanning on after each one, with single_word / lstrip / rstrip applied to each match.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    /// <param name="patterns">Each token with the text to look for (its content, normalized if it is a normalized token).</param>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> patterns)
    {
        _byFirstChar = patterns
            .Where(p => p.Pattern.Length > 0)
            .GroupBy(p => p.Pattern[0])
            // Longest first, so the first candidate that matches at a position is the leftmost-longest match.
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Adds segments covering all of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public void Split(string text, List<Segment> output)
    {
        var textStart = 0; // where the pending stretch of plain text begins
        var scan = 0;
        while (scan < text.Length)
        {
            var offset = text.AsSpan(scan).IndexOfAny(_firstChars);
            if (offset < 0)
                break;
            var at = scan + offset;
            var found = FindLongestAt(text, at);
            if (found is not { } match)
            {
                scan = at + 1;
                continue;
            }

            var (token, length) = match;
            var start = at;
            var stop = at + length;
            // The Rust matcher moves past every match, kept or not, so a discarded single_word match does not
            // expose the shorter tokens inside it.
            scan = stop;

            if (token.SingleWord && (EndsWithWordChar(text, start) || StartsWithWordChar(text, stop)))
                continue;
            if (token.LStrip)
            {
                while (start > textStart && char.IsWhiteSpace(text[start - 1]))
                    start--;
            }
            if (token.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop]))
                    stop++;
                scan = stop;
            }

            if (textStart < start)
                output.Add(new Segment(textStart, start, -1));
            output.Add(new Segment(start, stop, token.Id));
            textStart = stop;
        }
        if (textStart < text.Length || text.Length == 0)
            output.Add(new Segment(textStart, text.Length, -1));
    }

    private (AddedToken Token, int Length)? FindLongestAt(string text, int at)
    {
        var rest = text.AsSpan(at);
        foreach (var (pattern, token) in _byFirstChar[text[at]])
        {
            if (rest.StartsWith(pattern, StringComparison.Ordinal))
                return (token, pattern.Length);
        }
        return null;
    }

    // The Rust code asks the regex \w, which is Unicode-aware: letters, marks, decimal digits, connectors.
    private static bool EndsWithWordChar(string text, int end) =>
        end > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, end), out var rune, out _) == OperationStatus.Done && IsWordRune(rune);

    private static bool StartsWithWordChar(string text, int start) =>
        start < text.Length && Rune.DecodeFromUtf16(text.AsSpan(start), out var rune, out _) == OperationStatus.Done && IsWordRune(rune);

    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation => true,
        _ => false,
    };
}
