using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;

namespace ChatBlazor.Core.Tests.Moderation;

public class RedactorTests
{
    [Fact]
    public void EachSpanIsReplacedByItsPlaceholder()
    {
        var text = "Mail jane@example.com or call 415-555-0100.";
        var findings = new[]
        {
            new ModerationFinding("pii", "pii.email", 1, 5, 16, "[EMAIL]"),
            new ModerationFinding("pii", "pii.phone.us", 1, 30, 12, "[PHONE]"),
        };
        Assert.Equal("Mail [EMAIL] or call [PHONE].", Redactor.Redact(text, findings));
    }

    [Fact]
    public void OverlappingSpansMergeAndTheLongestNamesThem()
    {
        //          0         1         2
        //          0123456789012345678901234567
        var text = "x GB82 WEST 1234 5698 7654 32 y";
        var findings = new[]
        {
            new ModerationFinding("pii", "pii.card", 1, 12, 14, "[CARD]"),
            new ModerationFinding("pii", "pii.iban", 1, 2, 27, "[IBAN]"),
        };
        Assert.Equal("x [IBAN] y", Redactor.Redact(text, findings));
    }

    [Fact]
    public void ChainedOverlapsBecomeOneReplacement()
    {
        var findings = new[]
        {
            new ModerationFinding("pii", "a", 1, 0, 4, "[A]"),
            new ModerationFinding("pii", "b", 1, 3, 5, "[B]"),
            new ModerationFinding("pii", "c", 1, 7, 2, "[C]"),
        };
        Assert.Equal("[B]!", Redactor.Redact("abcdefghi!", findings));
    }

    [Fact]
    public void WholeTextFindingsAndMissingPlaceholdersAreHandled()
    {
        var findings = new[]
        {
            new ModerationFinding("jailbreak", "jailbreak.override", 1),
            new ModerationFinding("pii", "custom", 1, 0, 3, null),
        };
        Assert.Equal("[REDACTED] def", Redactor.Redact("abc def", findings));
        Assert.Equal("unchanged", Redactor.Redact("unchanged", []));
    }

    [Fact]
    public void TheDefaultRulesRedactAMessageEndToEnd()
    {
        var text = "I'm Jane (jane.doe@example.com, +44 20 7946 0958), card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, password=hunter22 please.";
        var detector = new RuleDetector(ModerationRules.Defaults);
        Assert.Equal("I'm Jane ([EMAIL], [PHONE]), card [CARD], IBAN [IBAN], password=[PASSWORD] please.", Redactor.Redact(text, detector.Detect(text)));
    }
}
