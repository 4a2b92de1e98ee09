using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Tests.Moderation;

/// <summary>What happens to rules an admin gets wrong: a clear error before storing, and at run time a runaway
/// pattern that times out instead of hanging the chat.</summary>
public class RuleDetectorTests
{
    [Fact]
    public void AnInvalidRegexIsRefusedWithAnErrorNamingTheRule()
    {
        var error = ModerationRules.Validate(new("custom.order-id", ModerationCategories.Pii, RuleKinds.Regex, @"ORD-(\d+", "[ORDER]"));
        Assert.NotNull(error);
        Assert.StartsWith("Rule 'custom.order-id': the pattern is not a valid regular expression", error);
    }

    [Theory]
    [InlineData("custom.x", "pii", "soundex", @"\d", "unknown kind 'soundex'")]
    [InlineData("custom.x", "spam", "regex", @"\d", "unknown category 'spam'")]
    [InlineData("custom.x", "pii", "regex", null, "needs a pattern")]
    [InlineData("Custom X", "pii", "regex", @"\d", "the id must be")]
    [InlineData("", "pii", "regex", @"\d", "needs an id")]
    public void BadRulesGetAnErrorThatSaysWhatIsWrong(string id, string category, string kind, string? pattern, string expected)
    {
        var error = ModerationRules.Validate(new(id, category, kind, pattern, null));
        Assert.NotNull(error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void ABuiltInKindWithoutAPatternUsesItsOwn()
    {
        var rule = new ModerationRule("pii.card", ModerationCategories.Pii, RuleKinds.Card, null, null);
        Assert.Null(ModerationRules.Validate(rule));
        var finding = Assert.Single(new RuleDetector([rule]).Detect("4111 1111 1111 1111"));
        Assert.Equal("[CARD]", finding.Placeholder);
    }

    [Fact]
    public void AnInvalidRuleIsLeftOutAndTheOthersStillWork()
    {
        var log = new ListLoggerDouble<RuleDetector>();
        var detector = new RuleDetector([new("custom.broken", "pii", "regex", "(", "[X]"), ..ModerationRules.Defaults], log);
        Assert.Single(detector.Skipped);
        Assert.Contains(detector.Detect("jane@example.com"), f => f.Rule == "pii.email");
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("custom.broken"));
    }

    [Fact]
    public void ACatastrophicRegexTimesOutFindsNothingAndIsLogged()
    {
        // Nested quantifiers over the same letter: 2^n ways to fail on a's followed by something else.
        var log = new ListLoggerDouble<RuleDetector>();
        var detector = new RuleDetector(
            [new("custom.runaway", "pii", "regex", @"^(a|aa)+$", "[X]"), new("pii.email", "pii", "regex", @"\w+@\w+\.com", "[EMAIL]")],
            log, TimeSpan.FromMilliseconds(20));
        var text = new string('a', 5000) + "! write to jane@example.com";

        var findings = detector.Detect(text);

        Assert.Equal("pii.email", Assert.Single(findings).Rule);
        var entry = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains("custom.runaway", entry.Message);
        Assert.DoesNotContain("jane@example.com", entry.Message);
    }
}

/// <summary>A logger that keeps what it is told, for asserting on what was logged.</summary>
public sealed class ListLoggerDouble<T> : ILogger<T>
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, formatter(state, exception)));
}
