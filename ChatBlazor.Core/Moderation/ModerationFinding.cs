namespace ChatBlazor.Core.Moderation;

/// <summary>
/// One thing a detector found in a text: its category (<see cref="ModerationCategories"/>), the rule or model that
/// found it (shown to admins and in <c>/v1/moderations</c>), a score in [0, 1] (1 for a rule that matched), and, for
/// a finding in a span of the text (personal data, a secret), where it is and the placeholder that replaces it
/// when the policy redacts (<c>[EMAIL]</c>). A finding about the whole text has no span.
/// </summary>
public sealed record ModerationFinding(string Category, string Rule, double Score, int Start = 0, int Length = 0, string? Placeholder = null)
{
    public bool HasSpan => Length > 0;
}

/// <summary>
/// Finds what moderation acts on in one text: the rules (personal data, secrets, jailbreak phrasings) and the
/// classifier are the two kinds. Detectors judge; what happens (block, redact, flag, review) is the policy's call.
/// </summary>
public interface IModerationDetector
{
    IReadOnlyList<ModerationFinding> Detect(string text);
}
