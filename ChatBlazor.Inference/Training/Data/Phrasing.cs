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

    // Words people drop anywhere in a sentence. One of them at a random place in one request in five, so that no
    // word of a frame is needed to find the number or the word asked about: the eval's frames are new sentences.
    // A request that has one of these words already gets no other, so "what does really mean" keeps one reading.
    private static readonly string[] _fillers = ["just", "actually", "really", "exactly", "now", "quickly", "simply", "again", "maybe", "basically"];

    /// <summary>An opener, the request with perhaps a filler word in it, a closer, each possibly empty; then <see cref="Vary"/>.</summary>
    public static string Wrap(string request, Random rng) => Vary(rng.Pick(_openers) + WithFiller(request, rng) + rng.Pick(_closers), rng);

    private static string WithFiller(string request, Random rng)
    {
        // Between two words only: next to a number or a sign it would change the question ("84 again x 2").
        var spaces = Enumerable.Range(1, Math.Max(0, request.Length - 2))
            .Where(i => request[i] == ' ' && char.IsLetter(request[i - 1]) && char.IsLetter(request[i + 1])).ToArray();
        if (spaces.Length == 0 || rng.Next(5) != 0 || request.Split(' ').Any(w => _fillers.Contains(w.Trim('"', '\'', '?', '.', ',').ToLowerInvariant())))
            return request;
        return request.Insert(rng.Pick(spaces), " " + rng.Pick(_fillers));
    }

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
