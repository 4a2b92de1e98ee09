using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Training.Data;

/// <summary>Surface noise for training questions: case, punctuation, "whats", "pls". Never applied to eval.</summary>
internal static partial class Phrasing
{
    public static T Pick<T>(this Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    public static string Fill(string template, string name, string value) => template.Replace("{" + name + "}", value, StringComparison.Ordinal);

    public static string Vary(string text, Random rng)
    {
        switch (rng.Next(10))
        {
            case < 3: text = text.ToLowerInvariant(); break;
            case 3: text = char.ToUpperInvariant(text[0]) + text[1..]; break;
        }
        if (rng.Next(3) == 0)
            text = WhatIs().Replace(text, m => m.Groups[1].Value + (rng.Next(2) == 0 ? "hats" : "hat's"));
        switch (rng.Next(8))
        {
            case 0: text = text.TrimEnd('?', '.', '!'); break;
            case 1 when text.EndsWith('?'): text += "?"; break;
        }
        switch (rng.Next(14))
        {
            case 0: text = "pls " + text; break;
            case 1: text = text.TrimEnd('?', '.') + " pls"; break;
            case 2: text = "please " + text; break;
            case 3: text += " thanks"; break;
            case 4: text = "hey, " + text; break;
        }
        return text;
    }

    [GeneratedRegex(@"\b([Ww])hat is\b")]
    private static partial Regex WhatIs();
}
