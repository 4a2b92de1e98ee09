namespace ChatBlazor.Inference.Moderation.Data;

/// <summary>
/// The moderation classifier's data, all our own: templates × slot values per category, plus hand-written sentences, and
/// far more benign text than harmful, much of it borrowing harmful words. Deterministic for a seed.
/// <para>
/// The split is by phrasing, not by sentence: in every family the 4th, 8th, ... template (index % 4 == 3) and every 4th
/// hand-written sentence are held out, so evaluation sees sentence shapes that training never did; index % 4 == 2 is the
/// validation part that picks thresholds. Slot values are shared across splits (a word list is a vocabulary, not a phrasing).
/// </para>
/// </summary>
public static class ModerationData
{
    private const int PerTemplate = 24;

    /// <summary>The benign look-alikes the issue names; always held out, so no test passes because it trained on them.</summary>
    public static IReadOnlyList<string> IssueLookAlikes { get; } =
    [
        "how do I kill a python process",
        "the shooting schedule for our film",
        "my card game deck",
        "this bug is killing me",
        "sexual reproduction in plants",
    ];

    public static IReadOnlyList<ModerationExample> Generate(int seed)
    {
        var examples = new List<ModerationExample>();
        for (var f = 0; f < ModerationCorpus.Families.Count; f++)
        {
            var family = ModerationCorpus.Families[f];
            for (var t = 0; t < family.Templates.Length; t++)
            {
                var random = new Random(seed * 7919 + f * 1009 + t);
                var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                // A template with few slot values gets few variants: two dozen casings of one sentence would weigh one
                // phrasing as much as a template with a hundred real combinations, in training and in the scores.
                var wanted = Math.Min(PerTemplate, 3 * Combinations(family.Templates[t]));
                for (var attempt = 0; attempt < wanted * 3 && seen.Count < wanted; attempt++)
                {
                    var text = Vary(Fill(family.Templates[t], random), random);
                    if (seen.Add(text))
                        examples.Add(new ModerationExample(text, family.Labels, SplitOf(t), $"{family.Name}/template{t}", family.LookAlike));
                }
            }
            for (var h = 0; h < family.HandWritten.Length; h++)
                examples.Add(new ModerationExample(family.HandWritten[h], family.Labels, SplitOf(h), $"{family.Name}/hand", family.LookAlike));
        }
        examples.AddRange(IssueLookAlikes.Select(text => new ModerationExample(text, [], ModerationSplit.HeldOut, "issue-look-alikes", LookAlike: true)));
        return examples;
    }

    private static int Combinations(string template)
    {
        var count = 1;
        for (var open = template.IndexOf('{'); open >= 0; open = template.IndexOf('{', open + 1))
            count *= ModerationCorpus.Slots.TryGetValue(template[(open + 1)..template.IndexOf('}', open)], out var values) ? values.Length : 1;
        return count;
    }

    private static ModerationSplit SplitOf(int index) => (index % 4) switch
    {
        3 => ModerationSplit.HeldOut,
        2 => ModerationSplit.Validation,
        _ => ModerationSplit.Train,
    };

    private static string Fill(string template, Random random)
    {
        var text = template;
        for (var open = text.IndexOf('{'); open >= 0; open = text.IndexOf('{'))
        {
            var close = text.IndexOf('}', open);
            var slot = text[(open + 1)..close];
            if (!ModerationCorpus.Slots.TryGetValue(slot, out var values))
                throw new InvalidOperationException($"template '{template}' names an unknown slot '{slot}'");
            text = string.Concat(text.AsSpan(0, open), values[random.Next(values.Length)], text.AsSpan(close + 1));
        }
        return text;
    }

    /// <summary>Chat-like surface noise: casing, a lead-in, end punctuation; never the meaning.</summary>
    private static string Vary(string text, Random random)
    {
        string[] leads = ["", "", "", "hey, ", "ok so ", "honestly ", "quick question: ", "lol "];
        string[] ends = ["", "", ".", "!", "?", " pls", " …"];
        var lead = leads[random.Next(leads.Length)];
        var end = text.EndsWith('?') || text.EndsWith('.') ? "" : ends[random.Next(ends.Length)];
        var result = lead + text + end;
        return random.NextDouble() < 0.3 ? result.ToLowerInvariant() : random.NextDouble() < 0.2 ? char.ToUpperInvariant(result[0]) + result[1..] : result;
    }
}
