using System.Text.Json;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Xunit.Abstractions;

namespace ChatBlazor.Core.Tests.Routing;

/// <summary>
/// The labelled set of <c>routing-labelled-set.json</c> (requests and the model a person would send each to under its
/// rules) against what <see cref="AutoRouter"/> picks, every model healthy and allowed. The first choice counts.
/// </summary>
public static class RoutingAgreement
{
    public sealed record Case(string Text, string Plan, string Expected, int? PromptTokens, string? Note);

    private sealed record LabelledSet(IReadOnlyList<RoutingRule> Rules, IReadOnlyList<Case> Cases);

    public sealed record Outcome(Case Case, string Chosen)
    {
        public bool Agrees => Chosen == Case.Expected;
    }

    public static IReadOnlyList<Outcome> Measure()
    {
        var path = Path.Combine(TestServices.RepositoryRoot(), "tests", "ChatBlazor.Core.Tests", "Routing", "routing-labelled-set.json");
        var set = JsonSerializer.Deserialize<LabelledSet>(File.ReadAllText(path), RoutingSettingsJson)!;
        var healthy = new RouteTarget(true, 32_768, null);
        return [.. set.Cases.Select(c =>
        {
            var input = new RoutingInput(c.Plan, c.Text, c.PromptTokens ?? TokenizedPrompt.Estimate(c.Text).Count);
            var decision = AutoRouter.Route(set.Rules, input, _ => healthy, null);
            return new Outcome(c, decision.Candidates.FirstOrDefault() ?? "(none)");
        })];
    }

    private static readonly JsonSerializerOptions RoutingSettingsJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}

public class RoutingAgreementTests
{
    [Fact]
    public void TheLabelledSetHasAtLeastAHundredCasesCoveringEveryTarget()
    {
        var outcomes = RoutingAgreement.Measure();
        Assert.True(outcomes.Count >= 100, $"{outcomes.Count} cases");
        Assert.Equal(["coder", "large", "maths", "mini"], outcomes.Select(o => o.Case.Expected).Distinct().Order());
        Assert.Equal(["Free", "Pro", "Team"], outcomes.Select(o => o.Case.Plan).Distinct().Order());
    }

    /// <summary>A floor under the measured figure (docs/benchmarks.md): a detector change that loses ground fails here.</summary>
    [Fact]
    public void TheDefaultRulesAgreeWithTheLabelsOnMostRequests()
    {
        var outcomes = RoutingAgreement.Measure();
        var agreement = (double)outcomes.Count(o => o.Agrees) / outcomes.Count;
        Assert.True(agreement >= 0.9, $"agreement {agreement:P1}; disagreements:\n{string.Join("\n", outcomes.Where(o => !o.Agrees).Select(o => $"{o.Case.Expected} → {o.Chosen}: {o.Case.Text}"))}");
    }
}

/// <summary>Prints and saves the agreement figure with its confusion matrix (Category=Bench; docs/benchmarks.md).</summary>
[Trait("Category", "Bench")]
public class RoutingAgreementBench(ITestOutputHelper output)
{
    [Fact]
    public void ReportAgreement()
    {
        var outcomes = RoutingAgreement.Measure();
        var labels = outcomes.Select(o => o.Case.Expected).Concat(outcomes.Select(o => o.Chosen)).Distinct().Order().ToArray();
        var agreed = outcomes.Count(o => o.Agrees);
        output.WriteLine($"Agreement: {agreed}/{outcomes.Count} = {(double)agreed / outcomes.Count:P1}");
        output.WriteLine($"expected \\ chosen | {string.Join(" | ", labels)}");
        var matrix = labels.ToDictionary(e => e, e => labels.ToDictionary(c => c, c => outcomes.Count(o => o.Case.Expected == e && o.Chosen == c)));
        foreach (var expected in labels)
            output.WriteLine($"{expected} | {string.Join(" | ", labels.Select(c => matrix[expected][c]))}");
        foreach (var miss in outcomes.Where(o => !o.Agrees))
            output.WriteLine($"MISS expected {miss.Case.Expected}, chose {miss.Chosen} ({miss.Case.Plan}): {miss.Case.Text.ReplaceLineEndings(" ")}");
        BenchResults.Save("routing.json", "agreement", new { cases = outcomes.Count, agreed, matrix, misses = outcomes.Where(o => !o.Agrees).Select(o => new { o.Case.Text, o.Case.Expected, o.Chosen }) });
    }
}
