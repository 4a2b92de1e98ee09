using ChatBlazor.Core.Routing;

namespace ChatBlazor.Core.Tests.Routing;

public class AutoRouterTests
{
    private static readonly RoutingRule[] Rules =
    [
        new() { Name = "help", Topic = RequestTopic.ChatBlazor, Targets = ["small"] },
        new() { Name = "code", Topic = RequestTopic.Code, MaxWaiting = 4, Targets = ["coder", "large"] },
        new() { Name = "long", MinPromptTokens = 1000, Targets = ["large"] },
        new() { Name = "team", Plans = ["Team"], Targets = ["large", "small"] },
        new() { Name = "rest", Targets = ["small"] },
    ];

    private static RouteTarget Healthy(int waiting = 0) => new(true, 8192, new ModelState("m", true, true, 0, waiting, 0, null, null, DateTimeOffset.UnixEpoch));

    private static Func<string, RouteTarget?> All(Dictionary<string, RouteTarget>? overrides = null) =>
        name => overrides?.GetValueOrDefault(name) ?? (name is "small" or "coder" or "large" ? Healthy() : null);

    private static RouteDecision Route(string text, string plan = "Free", int tokens = 20, Func<string, RouteTarget?>? targets = null, string? defaultModel = null) =>
        AutoRouter.Route(Rules, new RoutingInput(plan, text, tokens), targets ?? All(), defaultModel);

    [Fact]
    public void TheFirstMatchingRuleGivesItsTargetsInOrder()
    {
        var decision = Route("Fix this: print(x);");
        Assert.Equal("code", decision.Rule);
        Assert.Equal(["coder", "large"], decision.Candidates);
    }

    [Fact]
    public void PlanAndLengthConditionsSelectTheirRules()
    {
        Assert.Equal("team", Route("Tell me about whales", plan: "Team").Rule);
        Assert.Equal("rest", Route("Tell me about whales", plan: "Free").Rule);
        Assert.Equal("long", Route("Summarise this report", tokens: 1500).Rule);
        Assert.Equal("rest", Route("Summarise this report", tokens: 999).Rule);
    }

    [Fact]
    public void DisabledUnhealthyOverQueueAndNotAllowedTargetsAreSkipped()
    {
        var decision = Route("Fix this: print(x);", targets: All(new()
        {
            ["coder"] = new RouteTarget(true, 8192, new ModelState("coder", true, false, 0, 0, null, null, null, DateTimeOffset.UnixEpoch, "down")),
        }));
        Assert.Equal(["large"], decision.Candidates);
        Assert.Contains("coder: unhealthy", decision.Skipped);

        var queued = Route("Fix this: print(x);", targets: All(new() { ["coder"] = Healthy(waiting: 9) }));
        Assert.Equal(["large"], queued.Candidates);

        var notAllowed = Route("Fix this: print(x);", targets: All(new() { ["coder"] = new RouteTarget(false, 8192, null) }));
        Assert.Equal(["large"], notAllowed.Candidates);
        Assert.Contains("coder: not in the Free plan", notAllowed.Skipped);
    }

    [Fact]
    public void AMatchingRuleWithNoUsableTargetPassesToTheNextRule()
    {
        RoutingRule[] rules = [new() { Name = "help", Topic = RequestTopic.ChatBlazor, Targets = ["small"] }, new() { Name = "rest", Targets = ["large"] }];
        var sick = All(new() { ["small"] = new RouteTarget(true, 8192, new ModelState("small", true, false, 0, 0, null, null, null, DateTimeOffset.UnixEpoch)) });

        var decision = AutoRouter.Route(rules, new RoutingInput("Free", "Where is my API key?", 10), sick, null);

        Assert.Equal("rest", decision.Rule);
        Assert.Equal(["large"], decision.Candidates);
        Assert.Equal("help", AutoRouter.Route(rules, new RoutingInput("Free", "Where is my API key?", 10), All(), null).Rule);
    }

    [Fact]
    public void APromptLongerThanAModelsWindowSkipsIt()
    {
        var decision = Route("Summarise this report", tokens: 5000, targets: All(new() { ["large"] = new RouteTarget(true, 4096, null) }), defaultModel: "small");
        Assert.Equal("rest", decision.Rule); // "long" matched, but its only target cannot hold the prompt
        Assert.Equal(["small"], decision.Candidates);
        Assert.Contains("large: prompt longer than its window", decision.Skipped);
    }

    [Fact]
    public void TheDefaultModelClosesTheListOnce()
    {
        Assert.Equal(["coder", "large", "small"], Route("Fix this: print(x);", defaultModel: "small").Candidates);
        Assert.Equal(["small"], Route("Hello there", defaultModel: "small").Candidates);
    }

    [Fact]
    public void NoRulesAndNoDefaultLeaveNoCandidate() =>
        Assert.Empty(AutoRouter.Route([], new RoutingInput("Free", "hi", 1), All(), null).Candidates);
}
