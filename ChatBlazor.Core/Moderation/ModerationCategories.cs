namespace ChatBlazor.Core.Moderation;

/// <summary>
/// The categories moderation speaks of: OpenAI's names (so <c>/v1/moderations</c> answers in words its clients know),
/// with their sub-categories after a slash, plus our own <see cref="Pii"/> and <see cref="Jailbreak"/>.
/// </summary>
public static class ModerationCategories
{
    public const string Harassment = "harassment";
    public const string HarassmentThreatening = "harassment/threatening";
    public const string Hate = "hate";
    public const string HateThreatening = "hate/threatening";
    public const string SelfHarm = "self-harm";
    public const string SelfHarmIntent = "self-harm/intent";
    public const string SelfHarmInstructions = "self-harm/instructions";
    public const string Sexual = "sexual";
    public const string SexualMinors = "sexual/minors";
    public const string Violence = "violence";
    public const string ViolenceGraphic = "violence/graphic";
    public const string Illicit = "illicit";
    public const string IllicitViolent = "illicit/violent";
    /// <summary>Personal data and secrets: card numbers, IBANs, emails, phones, SSNs, API keys, private keys, passwords.</summary>
    public const string Pii = "pii";
    /// <summary>Attempts to override the system's instructions, extract its prompt, or smuggle instructions in.</summary>
    public const string Jailbreak = "jailbreak";

    public static IReadOnlyList<string> All { get; } =
    [
        Harassment, HarassmentThreatening, Hate, HateThreatening, SelfHarm, SelfHarmIntent, SelfHarmInstructions,
        Sexual, SexualMinors, Violence, ViolenceGraphic, Illicit, IllicitViolent, Pii, Jailbreak,
    ];

    /// <summary>The top-level category of a sub-category (<c>hate/threatening</c> → <c>hate</c>).</summary>
    public static string TopLevel(string category)
    {
        var slash = category.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? category : category[..slash];
    }
}
