using System.Text;

namespace ChatBlazor.Core.Moderation.Rules;

/// <summary>Replaces the spans of findings with their placeholders (<c>[EMAIL]</c>).</summary>
public static class Redactor
{
    /// <summary>Placeholder for a span whose finding names none.</summary>
    public const string DefaultPlaceholder = "[REDACTED]";

    /// <summary>
    /// The text with every span finding replaced by its placeholder. Overlapping spans (an IBAN whose digits also
    /// look like a card) become one replacement covering both, with the placeholder of the longest. Findings about
    /// the whole text are ignored.
    /// </summary>
    public static string Redact(string text, IReadOnlyList<ModerationFinding> findings)
    {
        var spans = findings.Where(f => f.HasSpan && f.Start >= 0 && f.Start + f.Length <= text.Length)
            .OrderBy(f => f.Start).ThenByDescending(f => f.Length).ToList();
        if (spans.Count == 0) return text;

        var result = new StringBuilder(text.Length);
        var written = 0;
        for (var i = 0; i < spans.Count;)
        {
            var longest = spans[i];
            var end = longest.Start + longest.Length;
            var j = i + 1;
            for (; j < spans.Count && spans[j].Start < end; j++)
            {
                end = Math.Max(end, spans[j].Start + spans[j].Length);
                if (spans[j].Length > longest.Length) longest = spans[j];
            }
            result.Append(text, written, spans[i].Start - written).Append(longest.Placeholder ?? DefaultPlaceholder);
            written = end;
            i = j;
        }
        return result.Append(text, written, text.Length - written).ToString();
    }
}
