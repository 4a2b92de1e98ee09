namespace ChatBlazor.Core.Moderation.Rules;

/// <summary>
/// The kinds a <see cref="ModerationRule"/> can have. <see cref="Regex"/> and <see cref="Phrase"/> are the pattern
/// alone; the others are built in: their pattern only finds candidates and code confirms them (a checksum, a digit
/// count, a decoding), so an admin can widen or narrow the pattern and the check still applies.
/// </summary>
public static class RuleKinds
{
    /// <summary>The pattern on the raw text. With a placeholder each match is a span (a group named <c>value</c>
    /// narrows it, as in <c>password=(?&lt;value&gt;…)</c>); without one a match is a finding about the whole text.</summary>
    public const string Regex = "regex";

    /// <summary>The pattern, written in lower case, on the normalised text (<see cref="TextNormalizer"/>): jailbreak
    /// phrasings, which obfuscation must not slip past. Findings are about the whole text.</summary>
    public const string Phrase = "phrase";

    /// <summary>Payment card: 13–19 digits once spaces and dashes are removed, a known issuer prefix, and the Luhn check.</summary>
    public const string Card = "card";

    /// <summary>IBAN: the country's length (for the countries listed in <see cref="Checksums"/>) and mod 97 == 1.</summary>
    public const string Iban = "iban";

    /// <summary>Phone number: 8–15 digits (E.164's limit) and no order, invoice or reference number word just before it.</summary>
    public const string Phone = "phone";

    /// <summary>US social security number: area not 000, 666 or 9xx, group not 00, serial not 0000.</summary>
    public const string Ssn = "ssn";

    /// <summary>Runs of base64 (standard or URL-safe) that decode to text; the text is checked with the phrase rules.</summary>
    public const string Base64 = "base64";

    /// <summary>Runs of hexadecimal byte pairs that decode to text; the text is checked with the phrase rules.</summary>
    public const string Hex = "hex";

    /// <summary>Runs of percent-encoding that decode to text; the text is checked with the phrase rules.</summary>
    public const string UrlEncoded = "url-encoded";

    public static IReadOnlyList<string> All { get; } = [Regex, Phrase, Card, Iban, Phone, Ssn, Base64, Hex, UrlEncoded];

    /// <summary>Kinds whose matches are spans of the text that redaction replaces.</summary>
    public static bool IsSpanKind(string kind) => kind is Card or Iban or Phone or Ssn;

    /// <summary>Kinds that decode a payload and look for jailbreak phrasings inside it.</summary>
    public static bool IsDecodingKind(string kind) => kind is Base64 or Hex or UrlEncoded;

    /// <summary>The candidate pattern a built-in kind uses when a rule gives none; null for the kinds that need one.</summary>
    public static string? DefaultPattern(string kind) => kind switch
    {
        Card => CardPattern,
        Iban => IbanPattern,
        Ssn => SsnPattern,
        Base64 => Base64Pattern,
        Hex => HexPattern,
        UrlEncoded => UrlEncodedPattern,
        _ => null,
    };

    /// <summary>The placeholder a span kind uses when a rule gives none.</summary>
    public static string DefaultPlaceholder(string kind) => kind switch
    {
        Card => "[CARD]",
        Iban => "[IBAN]",
        Phone => "[PHONE]",
        Ssn => "[SSN]",
        _ => "[REDACTED]",
    };

    // 13–19 digits, each group separated by at most one space or dash, not glued to other digits or dashes.
    internal const string CardPattern = @"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])";

    // Country, check digits, then letters and digits in groups of any size separated by single spaces; the kind
    // trims the candidate to the country's length, so a following capitalised word does not spoil it.
    internal const string IbanPattern = @"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b";

    // Same separator twice (123-45-6789, 123 45 6789), not part of a longer run of digits or dashes.
    internal const string SsnPattern = @"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])";

    // 32 characters decode to 24 bytes: shorter runs are words, ids and hashes more often than hidden sentences.
    internal const string Base64Pattern = @"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}";

    // 16 byte pairs or more, optionally separated by spaces, colons or \x.
    internal const string HexPattern = @"(?:(?:\\x)?[0-9A-Fa-f]{2}[ :]?){16,}";

    // At least six escapes in one run without spaces. The run starts after a space or an escape only: without that
    // lookbehind every position of a long token would be tried and scanned to its end (quadratic).
    internal const string UrlEncodedPattern = @"(?<![^\s%])[^\s%]*(?:%[0-9A-Fa-f]{2}[^\s%]*){6,}";
}
