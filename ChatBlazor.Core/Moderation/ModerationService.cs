using System.Globalization;
using System.Text;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Moderation.Rules;
using ChatBlazor.Inference.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Moderation;

/// <summary>
/// The decision about one text. <see cref="Action"/> is the strongest of what the findings' policies ask (Block &gt;
/// Review &gt; Flag &gt; Allow), or <see cref="ModerationAction.Redact"/> when the only thing to do was to redact.
/// <see cref="RedactedText"/> is the text with the redacted spans replaced by their placeholders (null when nothing was
/// redacted); <see cref="Category"/> and <see cref="Reason"/> name the policy that decided, in words a user can read.
/// <see cref="Scores"/> has every category of <see cref="ModerationCategories.All"/>: the classifier's score, or 1 for a rule hit.
/// <see cref="Flagged"/> categories are those with a finding whose policy does something.
/// </summary>
public sealed record ModerationResult(
    ModerationAction Action, IReadOnlyList<ModerationFinding> Findings, string? RedactedText, string? Category, string? Reason,
    IReadOnlyDictionary<string, double> Scores, IReadOnlySet<string> FlaggedCategories)
{
    public bool Flagged => FlaggedCategories.Count > 0;
}

/// <summary>Who and what a moderated text belongs to, for its flag.</summary>
public sealed record ModerationContext(
    string UserId, ModerationSource Source, ModerationDirection Direction, Guid? ConversationId = null, Guid? MessageId = null, Guid? ApiKeyId = null);

/// <summary>
/// Moderation's one decision, for chat, <c>/v1</c> and the after-completion check alike: the rules in force (compiled
/// by <see cref="ModerationSettings"/>), any other registered detector and, when one is registered, the classifier
/// (its scores become findings about the whole text where they reach their category's threshold); then the policy.
/// <see cref="RecordAsync"/> keeps a flag of what was blocked, flagged or sent to review, and suspends a user whose
/// violations reach the configured count.
/// </summary>
public sealed class ModerationService(
    ModerationSettings settings, IEnumerable<IModerationDetector> detectors, IDbContextFactory<AppDbContext> dbFactory,
    UserAdmin users, TimeProvider clock, ILogger<ModerationService> log, IModerationClassifier? classifier = null)
{
    /// <summary>The rule name of a finding made from a classifier score.</summary>
    public const string ClassifierRule = "classifier";

    /// <summary>The actor of automatic suspensions in the audit log.</summary>
    public static readonly AuditActor PolicyActor = new("moderation", "moderation policy");

    private const int ExcerptContext = 160;

    private readonly IModerationDetector[] _detectors = [.. detectors];

    /// <summary>What is stored of a redacted message: the original (true) or the redacted text.</summary>
    public bool StoreOriginal => settings.Current.Settings.StoreOriginal;

    /// <summary>The decision about <paramref name="text"/>: the rules, the other detectors and the classifier.</summary>
    public ModerationResult Check(string text) => Check(text, classify: true);

    /// <summary>
    /// The decision by the rules and other detectors alone, without the classifier: for a whole reply at its end
    /// (the classifier's judgement of it comes later, from the after-completion check) and for redacting history.
    /// </summary>
    public ModerationResult CheckRules(string text) => Check(text, classify: false);

    /// <summary>The text with the personal data its policies redact replaced by placeholders (rules only).</summary>
    public string RedactPersonalData(string text) => text.Length == 0 ? text : CheckRules(text).RedactedText ?? text;

    /// <summary>
    /// A redactor for one streamed reply: the rules in force now, and only the findings whose category's policy
    /// redacts, so an admin who turns redaction off for a category turns it off in replies too.
    /// </summary>
    public StreamRedactor NewStreamRedactor() => new(new RedactedSpans(settings.Current, _detectors));

    private ModerationResult Check(string text, bool classify)
    {
        var snapshot = settings.Current;
        var findings = new List<ModerationFinding>(snapshot.Detector.Detect(text));
        foreach (var detector in _detectors)
            findings.AddRange(detector.Detect(text));
        var scores = ModerationCategories.All.ToDictionary(c => c, _ => 0.0, StringComparer.Ordinal);
        foreach (var f in findings)
            scores[f.Category] = Math.Max(scores.GetValueOrDefault(f.Category), f.Score);
        if (classify && classifier is not null)
        {
            foreach (var (category, score) in classifier.Score(text))
            {
                scores[category] = Math.Max(scores.GetValueOrDefault(category), score);
                var policy = snapshot.PolicyFor(category);
                // Compared in float, the classifier's precision: 0.7f read as a double is 0.69999998, below a threshold of 0.7.
                if (score >= (float)policy.Threshold && policy.ClassifierAction != ModerationAction.Allow)
                    findings.Add(new ModerationFinding(category, ClassifierRule, score));
            }
        }
        return Decide(snapshot, text, findings, scores);
    }

    private static ModerationResult Decide(ModerationSnapshot snapshot, string text, List<ModerationFinding> findings, Dictionary<string, double> scores)
    {
        ModerationFinding? decisive = null;
        var decisiveAction = ModerationAction.Allow;
        var redact = new List<ModerationFinding>();
        var flagged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in findings)
        {
            var action = ActionFor(snapshot.PolicyFor(f.Category), f);
            if (action != ModerationAction.Allow)
                flagged.Add(f.Category);
            if (action == ModerationAction.Redact)
            {
                redact.Add(f);
                continue;
            }
            if (action > decisiveAction)
                (decisive, decisiveAction) = (f, action);
        }
        var redacted = redact.Count > 0 ? Redact(text, redact, 0, text.Length) : null;
        if (decisive is not null)
            return new ModerationResult(decisiveAction, findings, redacted, decisive.Category, ReasonFor(decisiveAction, decisive), scores, flagged);
        if (redact.Count > 0)
        {
            var placeholders = string.Join(", ", redact.OrderBy(f => f.Start).Select(f => f.Placeholder ?? "[REDACTED]").Distinct());
            return new ModerationResult(ModerationAction.Redact, findings, redacted, redact[0].Category,
                $"Redacted by the {redact[0].Category} policy: personal data was replaced ({placeholders}) before the model saw it.", scores, flagged);
        }
        return new ModerationResult(ModerationAction.Allow, findings, null, null, null, scores, flagged);
    }

    /// <summary>Redact needs a span to replace; a whole-text finding under a redact policy is flagged instead.</summary>
    private static ModerationAction ActionFor(ModerationPolicy policy, ModerationFinding finding)
    {
        var action = finding.Rule == ClassifierRule ? policy.ClassifierAction : policy.Action;
        return action == ModerationAction.Redact && !finding.HasSpan ? ModerationAction.Flag : action;
    }

    public static string ReasonFor(ModerationAction action, ModerationFinding finding)
    {
        var verb = action switch
        {
            ModerationAction.Block => "Blocked",
            ModerationAction.Review => "Sent to review",
            _ => "Flagged",
        };
        var source = finding.Rule == ClassifierRule
            ? $"classifier score {finding.Score.ToString("0.00", CultureInfo.InvariantCulture)}"
            : $"rule {finding.Rule}";
        return $"{verb} by the {finding.Category} policy: {Describe(finding.Category)} ({source}).";
    }

    private static string Describe(string category) => category switch
    {
        ModerationCategories.Jailbreak => "the message asks to ignore or reveal the system's instructions",
        ModerationCategories.Pii => "the message contains personal data or a secret",
        ModerationCategories.SexualMinors => "the message is sexual content involving minors",
        ModerationCategories.SelfHarmInstructions => "the message asks for instructions for self-harm",
        ModerationCategories.SelfHarmIntent => "the message expresses an intent of self-harm",
        ModerationCategories.HarassmentThreatening or ModerationCategories.HateThreatening => "the message threatens someone",
        ModerationCategories.IllicitViolent => "the message asks for help with violent wrongdoing",
        ModerationCategories.ViolenceGraphic => "the message describes graphic violence",
        _ => ModerationCategories.TopLevel(category) switch
        {
            ModerationCategories.Harassment => "the message looks like harassment",
            ModerationCategories.Hate => "the message looks like hate speech",
            ModerationCategories.SelfHarm => "the message is about self-harm",
            ModerationCategories.Sexual => "the message is sexual content",
            ModerationCategories.Violence => "the message is about violence",
            ModerationCategories.Illicit => "the message asks for help with wrongdoing",
            _ => $"the message matched the {category} category",
        },
    };

    /// <summary>
    /// Replaces the spans of <paramref name="spans"/> that lie in [<paramref name="from"/>, <paramref name="to"/>) by
    /// their placeholders; of overlapping spans the first (by start, then the longest) wins.
    /// </summary>
    public static string Redact(string text, IEnumerable<ModerationFinding> spans, int from, int to)
    {
        var result = new StringBuilder();
        var at = from;
        foreach (var f in spans.Where(f => f.HasSpan).OrderBy(f => f.Start).ThenByDescending(f => f.Length))
        {
            if (f.Start < at || f.Start + f.Length > to)
                continue;
            result.Append(text, at, f.Start - at).Append(f.Placeholder ?? "[REDACTED]");
            at = f.Start + f.Length;
        }
        return result.Append(text, at, to - at).ToString();
    }

    /// <summary>
    /// Keeps a flag of a text that was blocked, flagged or sent to review (nothing for Allow and Redact), then, for a
    /// block, applies automatic suspension. Returns the flag, or null when there was nothing to record.
    /// </summary>
    public async Task<ModerationFlag?> RecordAsync(ModerationContext context, string text, ModerationResult result, CancellationToken ct = default)
    {
        if (result.Action is ModerationAction.Allow or ModerationAction.Redact)
            return null;
        var flag = new ModerationFlag
        {
            UserId = context.UserId, ConversationId = context.ConversationId, MessageId = context.MessageId, ApiKeyId = context.ApiKeyId,
            Source = context.Source, Direction = context.Direction, Action = result.Action, Category = result.Category,
            Reason = Truncate(result.Reason ?? "", 1000),
            Findings = [.. result.Findings.Select(f => new FlagFinding { Category = f.Category, Rule = f.Rule, Score = f.Score })],
            Excerpt = Excerpt(text, result), CreatedAt = clock.GetUtcNow(),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.ModerationFlags.Add(flag);
            await db.SaveChangesAsync(ct);
        }
        ModerationTelemetry.Flagged(result.Category, result.Action, context.Direction);
        // What the model wrote is not the user's doing: only an admin who upholds an output flag counts it against them.
        if (result.Action == ModerationAction.Block && context.Direction == ModerationDirection.Input)
            await ApplySuspensionPolicyAsync(context.UserId, ct);
        return flag;
    }

    /// <summary>
    /// Suspends the user when their violations within the window reach the configured count: blocks of their input an
    /// admin did not approve, and flags an admin upheld (hid the message, warned or suspended). Off when the count is 0. Returns
    /// whether this call suspended them.
    /// </summary>
    public async Task<bool> ApplySuspensionPolicyAsync(string userId, CancellationToken ct = default)
    {
        var policy = settings.Current.Settings;
        if (policy.SuspendAfterViolations <= 0)
            return false;
        var since = clock.GetUtcNow().AddDays(-policy.SuspendWindowDays);
        int violations;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            violations = await db.ModerationFlags.CountAsync(f => f.UserId == userId && f.CreatedAt >= since &&
                ((f.Action == ModerationAction.Block && f.Direction == ModerationDirection.Input && f.Status == ModerationFlagStatus.Open)
                 || f.Status == ModerationFlagStatus.Hidden || f.Status == ModerationFlagStatus.Warned
                 || f.Status == ModerationFlagStatus.UserSuspended), ct);
            if (violations < policy.SuspendAfterViolations)
                return false;
            var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.LockoutEnabled, u.LockoutEnd }).SingleOrDefaultAsync(ct);
            if (user is null || Identity.DisabledAccounts.IsDisabled(user.LockoutEnabled, user.LockoutEnd))
                return false;
        }
        try
        {
            await users.SetSuspendedAsync(PolicyActor, userId, true, ct);
            log.LogInformation("User {UserId} suspended by the moderation policy after {Violations} violations in {Days} days", userId, violations, policy.SuspendWindowDays);
            return true;
        }
        catch (UserAdminException e)
        {
            // The last active admin: the rules of user administration keep them, and an admin sees the flags.
            log.LogWarning("The moderation policy would suspend user {UserId} but may not: {Reason}", userId, e.Message);
            return false;
        }
    }

    /// <summary>Up to <see cref="ExcerptContext"/> characters each side of what decided, with every redactable span redacted.</summary>
    private static string Excerpt(string text, ModerationResult result)
    {
        var decisive = result.Findings.FirstOrDefault(f => f.HasSpan && f.Category == result.Category);
        var center = decisive?.Start ?? 0;
        var from = Math.Max(0, center - ExcerptContext);
        var to = Math.Min(text.Length, center + (decisive?.Length ?? 0) + ExcerptContext);
        // Widen to whole spans so no part of a secret is left at an edge.
        foreach (var f in result.Findings.Where(f => f.HasSpan && f.Placeholder is not null))
        {
            if (f.Start < from && f.Start + f.Length > from)
                from = f.Start;
            if (f.Start < to && f.Start + f.Length > to)
                to = f.Start + f.Length;
        }
        var excerpt = Redact(text, result.Findings.Where(f => f.Placeholder is not null), from, to);
        return Truncate((from > 0 ? "…" : "") + excerpt + (to < text.Length ? "…" : ""), ModerationFlag.MaxExcerptLength);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    /// <summary>The span findings of the rules (and other detectors) whose policy redacts them.</summary>
    private sealed class RedactedSpans(ModerationSnapshot snapshot, IModerationDetector[] others) : IModerationDetector
    {
        public IReadOnlyList<ModerationFinding> Detect(string text) =>
            [.. snapshot.Detector.Detect(text).Concat(others.SelectMany(d => d.Detect(text)))
                .Where(f => f.HasSpan && snapshot.PolicyFor(f.Category).Action == ModerationAction.Redact)];
    }
}
