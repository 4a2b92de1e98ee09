using ChatBlazor.Core.Moderation;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Moderation;

/// <summary>
/// Test double of the rule detector: finds fixed strings, so the expected spans are known to the test and not
/// computed by the code under test. Card 4111111111111111 → pii.card [CARD]; alice@example.com → pii.email [EMAIL];
/// "ignore all previous instructions" → jailbreak.override (no span placeholder: a rule about the text's intent).
/// </summary>
public sealed class ModerationDetectorDouble : IModerationDetector
{
    public const string Card = "4111111111111111";
    public const string Email = "alice@example.com";
    public const string Override = "ignore all previous instructions";

    public IReadOnlyList<ModerationFinding> Detect(string text)
    {
        var found = new List<ModerationFinding>();
        Find(Card, ModerationCategories.Pii, "pii.card", "[CARD]");
        Find(Email, ModerationCategories.Pii, "pii.email", "[EMAIL]");
        Find(Override, ModerationCategories.Jailbreak, "jailbreak.override", null);
        return found;

        void Find(string needle, string category, string rule, string? placeholder)
        {
            for (var at = text.IndexOf(needle, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(needle, at + needle.Length, StringComparison.OrdinalIgnoreCase))
                found.Add(new ModerationFinding(category, rule, 1, at, needle.Length, placeholder));
        }
    }
}

/// <summary>
/// Test double of the classifier: a text <c>[score category=0.75]</c> gets that score; every other category 0.01.
/// </summary>
public sealed class ModerationClassifierDouble : IModerationClassifier
{
    public IReadOnlyList<string> Categories => ModerationCategories.All.Where(c => c != ModerationCategories.Pii).ToList();

    public IReadOnlyDictionary<string, float> Score(string text)
    {
        var scores = Categories.ToDictionary(c => c, _ => 0.01f);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\[score ([a-z/\-]+)=([0-9.]+)\]"))
            scores[m.Groups[1].Value] = float.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return scores;
    }
}

/// <summary>The app with the moderation doubles: the detector and classifier above, and one built-in regex rule.</summary>
public class ModerationAppFactory : AppFactory
{
    /// <summary>A built-in rule of the test's own, compiled by the app's regex rule factory.</summary>
    public static readonly ModerationRule EmployeeId = new("pii.employee-id", ModerationCategories.Pii, RegexRulesDetector.Kind, @"\bEMP-\d{6}\b", "[EMPLOYEE]");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(EmployeeId);
            services.AddSingleton<IModerationDetector, ModerationDetectorDouble>();
            services.AddSingleton<IModerationClassifier, ModerationClassifierDouble>();
        });
    }
}
