namespace ChatBlazor.Core.Routing;

/// <summary>What a request is about, as the detectors (<see cref="RequestDetectors"/>) see it.</summary>
public enum RequestTopic
{
    Code,
    Maths,
    ChatBlazor,
}

/// <summary>
/// One rule of the <c>auto</c> model, tried in order: when every condition holds, its <see cref="Targets"/> are the
/// candidates, best first. A condition left empty always holds.
/// </summary>
public sealed record RoutingRule
{
    public string Name { get; init; } = "";
    /// <summary>Plans the rule applies to; empty: all.</summary>
    public IReadOnlyList<string> Plans { get; init; } = [];
    /// <summary>The prompt's length in tokens (estimated before a model is chosen), inclusive bounds.</summary>
    public int? MinPromptTokens { get; init; }
    public int? MaxPromptTokens { get; init; }
    /// <summary>The detector that must fire on the request's last user message.</summary>
    public RequestTopic? Topic { get; init; }
    /// <summary>A candidate with more requests waiting than this is skipped (queue depth); null: no limit.</summary>
    public int? MaxWaiting { get; init; }
    /// <summary>Models to try in order; those disabled, not allowed for the plan, unhealthy or over the queue limit are skipped.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    public bool Matches(RoutingInput input) =>
        (Plans.Count == 0 || Plans.Contains(input.Plan, StringComparer.OrdinalIgnoreCase))
        && (MinPromptTokens is not { } min || input.PromptTokens >= min)
        && (MaxPromptTokens is not { } max || input.PromptTokens <= max)
        && (Topic is not { } topic || RequestDetectors.Detects(topic, input.Text));

    /// <summary>The rule in a line, for the console and the audit log.</summary>
    public string Describe()
    {
        var conditions = new List<string>();
        if (Plans.Count > 0)
            conditions.Add($"plan in {string.Join("/", Plans)}");
        if (MinPromptTokens is { } min)
            conditions.Add($"prompt ≥ {min} tokens");
        if (MaxPromptTokens is { } max)
            conditions.Add($"prompt ≤ {max} tokens");
        if (Topic is { } topic)
            conditions.Add($"about {topic}");
        if (MaxWaiting is { } waiting)
            conditions.Add($"queue ≤ {waiting}");
        return $"{Name}: {(conditions.Count == 0 ? "always" : string.Join(", ", conditions))} → {string.Join(", ", Targets)}";
    }
}

/// <summary>What routing looks at: the caller's plan, the last user message and the whole prompt's estimated length.</summary>
public sealed record RoutingInput(string Plan, string Text, int PromptTokens);

/// <summary>A candidate as routing sees it: may the plan use it, its window, and its live state where known.</summary>
public sealed record RouteTarget(bool Allowed, int ContextWindow, ModelState? State);

/// <summary>The rule that matched (null: none did, the default model answers) and the models to try in order.</summary>
public sealed record RouteDecision(string? Rule, IReadOnlyList<string> Candidates, IReadOnlyList<string> Skipped);

/// <summary>Picks the models of an <c>auto</c> request. A pure function of the rules, the request and the targets' state.</summary>
public static class AutoRouter
{
    public const string Model = "auto";

    /// <summary>
    /// The first matching rule with a usable target decides; a matching rule whose targets are all unusable passes to
    /// the next one, so a sick model never leaves a request without an answer while another rule could give one. The
    /// default model closes every list (when usable), as the last fallback.
    /// </summary>
    /// <param name="target">A model's facts; null for a model that is unknown or disabled.</param>
    public static RouteDecision Route(IReadOnlyList<RoutingRule> rules, RoutingInput input, Func<string, RouteTarget?> target, string? defaultModel)
    {
        var skipped = new List<string>();
        string? chosen = null;
        var candidates = new List<string>();
        foreach (var rule in rules.Where(r => r.Matches(input)))
        {
            foreach (var model in rule.Targets.Distinct(StringComparer.Ordinal))
            {
                if (Unusable(model, target(model), input, rule.MaxWaiting) is { } why)
                    skipped.Add($"{model}: {why}");
                else
                    candidates.Add(model);
            }
            if (candidates.Count > 0)
            {
                chosen = rule.Name;
                break;
            }
        }
        if (defaultModel is not null && !candidates.Contains(defaultModel) && Unusable(defaultModel, target(defaultModel), input, null) is null)
            candidates.Add(defaultModel);
        return new RouteDecision(chosen, candidates, skipped);
    }

    private static string? Unusable(string model, RouteTarget? target, RoutingInput input, int? maxWaiting) => target switch
    {
        null => "not available",
        { Allowed: false } => $"not in the {input.Plan} plan",
        _ when input.PromptTokens >= target.ContextWindow => "prompt longer than its window",
        { State.Healthy: false } => "unhealthy",
        { State.Waiting: var waiting } when maxWaiting is { } limit && waiting > limit => $"{waiting} waiting (limit {limit})",
        _ => null,
    };
}
