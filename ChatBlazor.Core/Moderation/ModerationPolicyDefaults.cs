using static ChatBlazor.Core.Moderation.ModerationAction;
using C = ChatBlazor.Core.Moderation.ModerationCategories;

namespace ChatBlazor.Core.Moderation;

/// <summary>One category's policy as the decision applies it.</summary>
public sealed record ModerationPolicy(string Category, ModerationAction Action, ModerationAction ClassifierAction, double Threshold);

/// <summary>
/// The policy of a category no admin has changed. Broad categories only flag at a confident score, so ordinary
/// questions that sound alarming go on; the threatening, intent and instructions sub-categories act sooner and
/// stronger; sexual content involving minors is always blocked; personal data is redacted; jailbreak phrasings are
/// blocked, and a jailbreak-like score (less certain than a rule) goes to review.
/// </summary>
public static class ModerationPolicyDefaults
{
    public static IReadOnlyDictionary<string, ModerationPolicy> All { get; } = new ModerationPolicy[]
    {
        new(C.Harassment, Flag, Flag, 0.7),
        new(C.HarassmentThreatening, Review, Review, 0.6),
        new(C.Hate, Flag, Flag, 0.7),
        new(C.HateThreatening, Review, Review, 0.6),
        new(C.SelfHarm, Review, Review, 0.7),
        new(C.SelfHarmIntent, Review, Review, 0.6),
        new(C.SelfHarmInstructions, Block, Review, 0.6),
        new(C.Sexual, Flag, Flag, 0.7),
        new(C.SexualMinors, Block, Block, 0.5),
        new(C.Violence, Flag, Flag, 0.7),
        new(C.ViolenceGraphic, Flag, Flag, 0.6),
        new(C.Illicit, Flag, Flag, 0.7),
        new(C.IllicitViolent, Review, Review, 0.6),
        // The classifier does not score personal data: the rules (with their checksums) find it.
        new(C.Pii, Redact, Allow, 1.0),
        new(C.Jailbreak, Block, Review, 0.8),
    }.ToDictionary(p => p.Category, StringComparer.Ordinal);

    public static ModerationPolicy For(string category) =>
        All.GetValueOrDefault(category) ?? new ModerationPolicy(category, Flag, Flag, 0.7);
}
