namespace ChatBlazor.Core.Moderation.Rules;

/// <summary>
/// The checks that make a run of digits personal data rather than an order number: Luhn with issuer prefixes for
/// cards, mod 97 with per-country lengths for IBANs, the Social Security Administration's never-issued ranges.
/// </summary>
public static class Checksums
{
    /// <summary>The Luhn check over a string of digits (the payment card check digit).</summary>
    public static bool Luhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    /// <summary>Whether 13–19 digits start with a prefix an issuer uses for that length. Without this check one in
    /// ten random digit runs of a card's length would pass Luhn.</summary>
    public static bool IsCardIssuerPrefix(ReadOnlySpan<char> digits)
    {
        var n = digits.Length;
        if (n < 13) return false;
        int p2 = int.Parse(digits[..2]), p3 = int.Parse(digits[..3]), p4 = int.Parse(digits[..4]);
        return (digits[0] == '4' && n is 13 or 16 or 19)                                              // Visa
            || (p2 is >= 51 and <= 55 && n == 16)                                                      // Mastercard
            || (p4 is >= 2221 and <= 2720 && n == 16)                                                  // Mastercard 2-series
            || (p2 is 34 or 37 && n == 15)                                                             // American Express
            || ((p4 == 6011 || p3 is >= 644 and <= 649 || p2 == 65) && n is >= 16 and <= 19)          // Discover
            || ((p3 is >= 300 and <= 305 || p2 is 36 or 38 or 39) && n is >= 14 and <= 19)            // Diners Club
            || (p4 is >= 3528 and <= 3589 && n is >= 16 and <= 19)                                    // JCB
            || (p2 == 62 && n is >= 16 and <= 19);                                                     // UnionPay
    }

    /// <summary>A card number: issuer prefix and Luhn over the digits alone.</summary>
    public static bool IsCardNumber(ReadOnlySpan<char> digits) =>
        digits.Length is >= 13 and <= 19 && IsCardIssuerPrefix(digits) && Luhn(digits);

    /// <summary>IBAN lengths of the SEPA countries and a few others often seen; an IBAN from a country not listed
    /// is accepted at any length from 15 to 34 if its check digits agree.</summary>
    public static IReadOnlyDictionary<string, int> IbanLengths { get; } = new Dictionary<string, int>
    {
        ["AD"] = 24, ["AE"] = 23, ["AT"] = 20, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22, ["BR"] = 29,
        ["CH"] = 21, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18, ["EE"] = 20, ["ES"] = 24, ["FI"] = 18,
        ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GI"] = 23, ["GL"] = 18, ["GR"] = 27, ["HR"] = 21, ["HU"] = 28,
        ["IE"] = 22, ["IL"] = 23, ["IS"] = 26, ["IT"] = 27, ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28, ["LI"] = 21,
        ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["MC"] = 27, ["ME"] = 22, ["MK"] = 19, ["MT"] = 31, ["MU"] = 30,
        ["NL"] = 18, ["NO"] = 15, ["PK"] = 24, ["PL"] = 28, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22,
        ["SA"] = 24, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27, ["TN"] = 24, ["TR"] = 26, ["UA"] = 29,
        ["VA"] = 22, ["XK"] = 20,
    };

    /// <summary>The IBAN check (ISO 13616): the first four characters moved to the end, letters as 10–35, the number
    /// mod 97 must be 1. <paramref name="iban"/> is upper case letters and digits only.</summary>
    public static bool IbanMod97(ReadOnlySpan<char> iban)
    {
        if (iban.Length < 5) return false;
        var remainder = 0;
        for (var i = 0; i < iban.Length; i++)
        {
            var c = iban[(i + 4) % iban.Length];
            if (c is >= '0' and <= '9') remainder = (remainder * 10 + (c - '0')) % 97;
            else if (c is >= 'A' and <= 'Z') remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            else return false;
        }
        return remainder == 1;
    }

    /// <summary>A US SSN that could have been issued: area not 000, 666 or 900–999, group not 00, serial not 0000.</summary>
    public static bool IsIssuableSsn(int area, int group, int serial) =>
        area is > 0 and < 900 && area != 666 && group != 0 && serial != 0;
}
