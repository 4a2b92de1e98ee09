using System.Globalization;
using System.Text;

namespace ChatBlazor.Core.Moderation.Rules;

/// <summary>
/// Folds the cheap disguises of a jailbreak phrasing before the phrase rules see it: compatibility forms (full-width
/// and styled letters), accents, invisible characters, Cyrillic look-alikes, leetspeak inside words, case, and runs
/// of whitespace. Positions do not survive this, which is why phrase findings are about the whole text.
/// </summary>
public static class TextNormalizer
{
    // Cyrillic and Greek letters that render like Latin ones; a phrase typed with them reads the same to a model.
    private static readonly Dictionary<char, char> LookAlikes = new()
    {
        ['а'] = 'a', ['е'] = 'e', ['о'] = 'o', ['р'] = 'p', ['с'] = 'c', ['у'] = 'y', ['х'] = 'x', ['і'] = 'i',
        ['ј'] = 'j', ['ѕ'] = 's', ['ԁ'] = 'd', ['ο'] = 'o', ['α'] = 'a', ['ε'] = 'e', ['ι'] = 'i', ['ν'] = 'v',
    };

    // Only between or beside letters: "1gn0re" becomes "ignore", while "3 previous" and "2024" stay numbers.
    private static readonly Dictionary<char, char> Leet = new()
    {
        ['0'] = 'o', ['1'] = 'i', ['3'] = 'e', ['4'] = 'a', ['5'] = 's', ['7'] = 't', ['@'] = 'a', ['$'] = 's',
    };

    public static string Normalize(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormKD);
        var letters = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            // Accents (after decomposition) and format characters: zero-width spaces and joiners, soft hyphens, BOMs.
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.Format) continue;
            var lower = char.ToLowerInvariant(c);
            letters.Append(LookAlikes.GetValueOrDefault(lower, lower));
        }

        var result = new StringBuilder(letters.Length);
        for (var i = 0; i < letters.Length; i++)
        {
            var c = letters[i];
            if (char.IsWhiteSpace(c))
            {
                // A run of whitespace becomes one space, or one line break if it has one: injection rules look for
                // an instruction at the start of a line.
                var breaks = false;
                for (; i < letters.Length && char.IsWhiteSpace(letters[i]); i++) breaks |= letters[i] == '\n';
                i--;
                result.Append(breaks ? '\n' : ' ');
                continue;
            }
            if (Leet.TryGetValue(c, out var letter) && BesideLetter(letters, i)) c = letter;
            result.Append(c);
        }
        return result.ToString();
    }

    private static bool BesideLetter(StringBuilder text, int i) =>
        (i > 0 && char.IsAsciiLetter(text[i - 1])) || (i + 1 < text.Length && char.IsAsciiLetter(text[i + 1]));
}
