using System.Text.RegularExpressions;

namespace ChatBlazor.Core.Moderation;

/// <summary>
/// Runs the rules of kind <c>regex</c> (an admin's own rules are of this kind): a finding per match, scored 1, with
/// the rule's placeholder. Rules of the built-in kinds need the rule detector's code (checksums, decoding) and are
/// not matched here; the host registers that detector's factory in place of this one where it has it.
/// </summary>
public sealed class RegexRulesDetector : IModerationDetector
{
    public const string Kind = "regex";

    /// <summary>A runaway pattern on a long message gives up rather than hold a request (and an instance) hostage.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly (ModerationRule Rule, Regex Regex)[] _rules;

    /// <exception cref="ArgumentException">A rule's pattern is not a valid .NET regular expression; the message names the rule.</exception>
    public RegexRulesDetector(IEnumerable<ModerationRule> rules) =>
        _rules = [.. rules.Where(r => r.Enabled && r.Kind == Kind).Select(r => (r, Compile(r)))];

    public static Regex Compile(ModerationRule rule)
    {
        if (string.IsNullOrEmpty(rule.Pattern))
            throw new ArgumentException($"Rule {rule.Id} has no pattern; a regex rule needs one.", nameof(rule));
        try
        {
            return new Regex(rule.Pattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Rule {rule.Id}: the pattern is not a valid regular expression: {e.Message}", nameof(rule), e);
        }
    }

    public IReadOnlyList<ModerationFinding> Detect(string text)
    {
        var findings = new List<ModerationFinding>();
        foreach (var (rule, regex) in _rules)
        {
            try
            {
                foreach (Match m in regex.Matches(text))
                {
                    if (m.Length > 0)
                        findings.Add(new ModerationFinding(rule.Category, rule.Id, 1, m.Index, m.Length, rule.Placeholder));
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // Treated as no match: the console's test of a pattern shows the admin the timeout.
            }
        }
        return findings;
    }
}
