using Microsoft.Extensions.Configuration;

namespace ChatBlazor.Core.Limits;

/// <summary>
/// What a plan allows: requests and tokens per minute, tokens per day, which models (empty: all), and how many
/// replies may run at once (chat and API together), so a few accounts cannot fill the engine's queue for everyone.
/// A request's tokens are its prompt plus its reply budget while it runs, its real count once it ends.
/// Billing: the Stripe price of its subscription (a plan without one cannot be bought), the tokens a period includes,
/// and the metered Stripe price that charges tokens beyond them (none: nothing beyond is charged).
/// </summary>
public sealed record Plan(string Name, long RequestsPerMinute, long TokensPerMinute, long TokensPerDay, IReadOnlyList<string> Models,
    int ConcurrentReplies = Plan.DefaultConcurrentReplies, string? StripePriceId = null, long IncludedTokens = 0, string? StripeMeteredPriceId = null)
{
    public const int DefaultConcurrentReplies = 4;

    public bool Allows(string model) => Models.Count == 0 || Models.Contains(model, StringComparer.Ordinal);
}

/// <summary>
/// The plans from configuration: <c>Plans:&lt;Name&gt;:RequestsPerMinute</c>, <c>…:TokensPerMinute</c>,
/// <c>…:TokensPerDay</c>, optional <c>…:Models</c> and <c>…:ConcurrentReplies</c>, and <c>Plans:DefaultPlan</c>
/// (Free unless set), the plan new users get. For billing, optional <c>…:StripePriceId</c>, <c>…:IncludedTokens</c>
/// and <c>…:StripeMeteredPriceId</c>; a Stripe price belongs to one plan at most, so a subscription names its plan.
/// </summary>
public sealed class PlanCatalog
{
    public const string Section = "Plans";

    public PlanCatalog(IReadOnlyDictionary<string, Plan> plans, string defaultPlan)
    {
        Plans = plans;
        Default = plans.GetValueOrDefault(defaultPlan)
            ?? throw new InvalidOperationException($"Plans:DefaultPlan names '{defaultPlan}', which is not a plan (plans: {string.Join(", ", plans.Keys)}).");
    }

    public IReadOnlyDictionary<string, Plan> Plans { get; }
    public Plan Default { get; }

    /// <summary>The user's plan; a name no longer configured falls back to the default plan.</summary>
    public Plan For(string? name) => name is not null && Plans.TryGetValue(name, out var plan) ? plan : Default;

    /// <summary>The plan a subscription to this Stripe price buys; null for a price no plan names.</summary>
    public Plan? ForStripePrice(string? priceId) =>
        priceId is null ? null : Plans.Values.FirstOrDefault(p => string.Equals(p.StripePriceId, priceId, StringComparison.Ordinal));

    /// <summary>Reads and checks the section; every error names the key to fix.</summary>
    public static PlanCatalog From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var plans = new Dictionary<string, Plan>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren().Where(c => !string.Equals(c.Key, "DefaultPlan", StringComparison.OrdinalIgnoreCase)))
        {
            long Positive(string key) => long.TryParse(child[key], out var v) && v > 0
                ? v
                : throw new InvalidOperationException($"{Section}:{child.Key}:{key} must be a whole number above 0 (it is '{child[key]}').");
            var models = child.GetSection("Models").GetChildren().Select(m => m.Value).OfType<string>().ToArray();
            var concurrent = child["ConcurrentReplies"] is null ? Plan.DefaultConcurrentReplies : (int)Math.Min(Positive("ConcurrentReplies"), 10_000);
            var included = child["IncludedTokens"] is null ? 0
                : long.TryParse(child["IncludedTokens"], out var tokens) && tokens >= 0 ? tokens
                : throw new InvalidOperationException($"{Section}:{child.Key}:IncludedTokens must be a whole number, 0 or more (it is '{child["IncludedTokens"]}').");
            plans[child.Key] = new Plan(child.Key, Positive("RequestsPerMinute"), Positive("TokensPerMinute"), Positive("TokensPerDay"), models, concurrent,
                StripeId(child, "StripePriceId"), included, StripeId(child, "StripeMeteredPriceId"));
        }
        if (plans.Count == 0)
            throw new InvalidOperationException($"No plans configured: set {Section}:<Name>:RequestsPerMinute, TokensPerMinute and TokensPerDay.");
        // A subscription's price decides the user's plan, so two plans with one price would make that a guess.
        var shared = plans.Values.Where(p => p.StripePriceId is not null).GroupBy(p => p.StripePriceId).FirstOrDefault(g => g.Count() > 1);
        if (shared is not null)
            throw new InvalidOperationException(
                $"{string.Join(" and ", shared.Select(p => $"{Section}:{p.Name}:StripePriceId"))} name the same price '{shared.Key}': each plan needs a price of its own.");
        return new PlanCatalog(plans, section["DefaultPlan"] ?? "Free");
    }

    /// <summary>An optional Stripe id (price_…): unset or empty is none; spaces inside are a typo, reported with the key.</summary>
    private static string? StripeId(IConfigurationSection plan, string key)
    {
        var value = plan[key]?.Trim();
        if (string.IsNullOrEmpty(value))
            return null;
        return value.Any(char.IsWhiteSpace)
            ? throw new InvalidOperationException($"{Section}:{plan.Key}:{key} must be a Stripe price id such as price_123 (it is '{value}').")
            : value;
    }
}
