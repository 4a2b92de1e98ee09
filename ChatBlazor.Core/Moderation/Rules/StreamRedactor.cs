using System.Text;
using System.Text.RegularExpressions;

namespace ChatBlazor.Core.Moderation.Rules;

/// <summary>
/// Redacts a reply while it streams: <see cref="Push"/> takes each piece and returns what is safe to show now, with
/// personal data and secrets already replaced; <see cref="Flush"/> returns the rest at the end. It holds back only
/// the tail that could still grow into a match (a run of digits and separators that may become a card or phone
/// number, the last word that may become an email or a key, an open <c>-----BEGIN … PRIVATE KEY-----</c> block),
/// so ordinary prose is delayed by at most its last word. One instance per reply; not thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Bounded memory: never more than <see cref="MaxHeld"/> characters are held back. 512 covers, with room, the longest
/// thing that must be seen whole to be recognised: an email address (at most 254 characters), a provider API key
/// (GitHub's fine-grained tokens are 93, OpenAI project keys about 170), an IBAN (42 with spaces), a card (23).
/// A private key block is longer (1.7–3.3 KB): past the cap its start is emitted as one placeholder and everything
/// up to its END line is dropped, so it is never held whole and never shown.
/// </para>
/// <para>
/// Give it a detector of the span rules (personal data, secrets): it runs once per piece over at most
/// <see cref="MaxHeld"/> + 64 characters, and findings about the whole text are ignored here anyway.
/// </para>
/// </remarks>
public sealed class StreamRedactor(IModerationDetector detector)
{
    public const int MaxHeld = 512;

    // Already emitted raw text kept for matching: "password=" may have gone out before its value arrives.
    private const int ContextLength = 64;

    private static readonly Regex KeyEnd = new(@"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----", RegexOptions.CultureInvariant);

    private readonly StringBuilder _held = new();
    private string _context = "";
    private bool _insideKey;
    private string _keyCarry = "";

    /// <summary>Characters held back now (for callers that measure the delay).</summary>
    public int Held => _held.Length;

    /// <summary>Takes the next piece of the reply; returns the redacted text that can be shown now (maybe empty).</summary>
    public string Push(string piece) => Process(piece, final: false);

    /// <summary>The end of the reply: returns everything still held, redacted.</summary>
    public string Flush() => Process("", final: true);

    private string Process(string piece, bool final)
    {
        if (_insideKey)
        {
            piece = SkipKeyBody(piece);
            if (_insideKey)
            {
                // A reply that ends inside a key block: the rest of the block is dropped, never shown.
                if (final) _keyCarry = "";
                return "";
            }
        }
        _held.Append(piece);
        var buffer = _held.ToString();
        var offset = _context.Length;
        var findings = detector.Detect(_context + buffer)
            .Where(f => f.HasSpan && f.Start + f.Length > offset)
            .Select(f => f with { Start = f.Start - offset })
            .ToList();

        var cut = final ? buffer.Length : KeepWhole(findings, TailStart(buffer));
        if (buffer.Length - cut > MaxHeld)
        {
            // Over the cap: emit all but the last MaxHeld characters, and a finding the cut would split goes out
            // whole (as its placeholder) rather than in two pieces that would each no longer match.
            cut = buffer.Length - MaxHeld;
            foreach (var f in findings)
                if (f.Start < cut && f.Start + f.Length > cut) cut = f.Start + f.Length;
        }

        var emitted = buffer[..cut];
        var inside = findings.Where(f => f.Start < cut)
            .Select(f => f with { Start = Math.Max(0, f.Start), Length = Math.Min(cut, f.Start + f.Length) - Math.Max(0, f.Start) })
            .ToList();
        _held.Remove(0, cut);
        var context = _context + emitted;
        _context = context.Length > ContextLength ? context[^ContextLength..] : context;
        if (!final && OpensKey(emitted))
        {
            // The cap cut through a private key block: its body keeps coming and no longer matches; drop it to END.
            _insideKey = true;
            _keyCarry = _held.ToString();
            _held.Clear();
            _context = "";
            _held.Append(SkipKeyBody(""));
        }
        return Redactor.Redact(emitted, inside);
    }

    /// <summary>Where the tail that could still grow into a match begins.</summary>
    private static int TailStart(string buffer)
    {
        var begin = OpenKeyStart(buffer);
        var tail = buffer.Length;
        while (tail > 0)
        {
            var c = buffer[tail - 1];
            if (IsTokenChar(c)
                || (c == ' ' && EndsWithNumberGroup(buffer, tail - 1))
                || (c == ' ' && tail < buffer.Length && char.IsAsciiDigit(buffer[tail])))
            {
                tail--;
                continue;
            }
            break;
        }
        return begin >= 0 ? Math.Min(begin, tail) : tail;
    }

    /// <summary>Where a private key block that has not ended starts (its header may still be arriving); -1 if none.
    /// Other armoured blocks (certificates, public keys) are not secrets and are not held.</summary>
    private static int OpenKeyStart(string text)
    {
        var begin = text.LastIndexOf("-----BEGIN", StringComparison.Ordinal);
        if (begin < 0 || text.IndexOf("-----END", begin, StringComparison.Ordinal) >= 0) return -1;
        var lineEnd = text.IndexOf('\n', begin);
        return lineEnd < 0 || text.AsSpan(begin, lineEnd - begin).Contains("PRIVATE KEY", StringComparison.Ordinal) ? begin : -1;
    }

    /// <summary>
    /// Whether the word before <paramref name="end"/> can be a group of a number written with spaces: a card's or
    /// phone's digits ("4111", "+44", "(555)"), an IBAN's ("DE89", "WEST"). Only then can the text after the space
    /// still extend a match; a word like "w12" or "step2" cannot, so it does not hold back what follows.
    /// </summary>
    private static bool EndsWithNumberGroup(string buffer, int end)
    {
        var start = end;
        while (start > 0 && IsTokenChar(buffer[start - 1]))
            start--;
        if (start == end)
            return false;
        var digitOrUpper = false;
        for (var i = start; i < end; i++)
        {
            var c = buffer[i];
            if (char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c))
                digitOrUpper = true;
            else if (c is not ('-' or '.' or '/' or '(' or ')' or '+'))
                return false;
        }
        return digitOrUpper;
    }

    // Characters of emails, keys, tokens, numbers with their separators, and the quotes around a password value.
    private static bool IsTokenChar(char c) => char.IsLetterOrDigit(c) || c is '@' or '.' or '_' or '%' or '+' or '-' or '/' or '=' or ':' or '(' or ')' or '#' or '"' or '\'';

    /// <summary>Moves the cut back to the start of any finding that reaches past it, so a match is emitted whole.</summary>
    private static int KeepWhole(List<ModerationFinding> findings, int cut)
    {
        for (var moved = true; moved;)
        {
            moved = false;
            foreach (var f in findings)
                if (f.Start >= 0 && f.Start < cut && f.Start + f.Length > cut)
                {
                    cut = f.Start;
                    moved = true;
                }
        }
        return cut;
    }

    private static bool OpensKey(string emitted) =>
        OpenKeyStart(emitted) is var begin and >= 0 && emitted.AsSpan(begin).Contains("PRIVATE KEY-----", StringComparison.Ordinal);

    /// <summary>Drops a private key body until its END line; returns what follows it, if it came.</summary>
    private string SkipKeyBody(string piece)
    {
        _keyCarry += piece;
        var end = KeyEnd.Match(_keyCarry);
        if (end.Success)
        {
            var rest = _keyCarry[(end.Index + end.Length)..];
            _insideKey = false;
            _keyCarry = "";
            return rest;
        }
        // An END line split across pieces is at most this long.
        if (_keyCarry.Length > ContextLength) _keyCarry = _keyCarry[^ContextLength..];
        return "";
    }
}
