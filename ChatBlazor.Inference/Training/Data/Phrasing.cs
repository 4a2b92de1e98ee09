using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Training.Data;

/// <summary>Surface noise for training questions: case, punctuation, "whats", "pls". Never applied to eval.</summary>
internal static partial class Phrasing
{
    public static T Pick<T>(this Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    public static string Fill(string template, string name, string value) => template.Replace("{" + name + "}", value, StringComparison.Ordinal);

    // What people put around a request. Every category's training questions get them, so the category is read from
    // the request itself rather than from the sentence around it: the eval asks in sentences the model never saw,
    // and the first model sent "I don't know what X is supposed to mean" to small talk and refusals.
    private static readonly string[] _openers =
    [
        "", "", "", "", "hi, ", "Hey. ", "Quick question: ", "ok so ", "I was wondering, ", "Sorry to bother you, but ",
        "I have a question. ", "Hello! ", "um, ", "So, ", "Help me out here: ", "One more thing: ", "Question for you: ",
        "Hi assistant, ", "Okay. ", "Good morning! ",
    ];

    private static readonly string[] _closers =
    [
        "", "", "", "", " Thanks!", " Thank you.", " Please help.", " I'm curious.", " Just wondering.", " Can you help?",
        " I'd appreciate it.", " Any help is welcome.", " Cheers.", " Be brief.", " Thanks in advance.", " I'm confused.",
        " Keep it short.", " No rush.",
    ];

    /// <summary>An opener, the request, a closer, each possibly empty; then <see cref="Vary"/>.</summary>
    public static string Wrap(string request, Random rng) => Vary(rng.Pick(_openers) + request + rng.Pick(_closers), rng);

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
