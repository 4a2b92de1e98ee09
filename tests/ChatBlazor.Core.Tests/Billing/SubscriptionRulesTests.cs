using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Limits;
using Microsoft.Extensions.Configuration;

namespace ChatBlazor.Core.Tests.Billing;

/// <summary>The subscription state machine without a database: which plan a stored state gives.</summary>
public sealed class SubscriptionRulesTests
{
    private static readonly PlanCatalog Catalog = PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Plans:DefaultPlan"] = "Free",
        ["Plans:Free:RequestsPerMinute"] = "1", ["Plans:Free:TokensPerMinute"] = "1", ["Plans:Free:TokensPerDay"] = "1",
        ["Plans:Pro:RequestsPerMinute"] = "2", ["Plans:Pro:TokensPerMinute"] = "2", ["Plans:Pro:TokensPerDay"] = "2",
        ["Plans:Pro:StripePriceId"] = "price_pro", ["Plans:Pro:StripeMeteredPriceId"] = "price_tokens", ["Plans:Pro:IncludedTokens"] = "1000000",
    }).Build());

    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromDays(3);

    private static BillingAccount Account(string? status, string? price = "price_pro", DateTimeOffset? failedSince = null) => new()
    {
        CustomerId = "cus_1", SubscriptionId = status is null ? null : "sub_1", Status = status, PriceId = price, PaymentFailedSince = failedSince,
    };

    [Theory]
    [InlineData("active", "Pro")]
    [InlineData("trialing", "Pro")]
    [InlineData("past_due", "Pro")]
    [InlineData("canceled", "Free")]
    [InlineData("unpaid", "Free")]
    [InlineData("incomplete_expired", "Free")]
    [InlineData("paused", "Free")]
    [InlineData("incomplete", null)]
    [InlineData(null, null)]
    public void EachStatusGivesItsPlanOrLeavesThePlanAlone(string? status, string? plan) =>
        Assert.Equal(plan, SubscriptionRules.PlanFor(Account(status), Catalog, Now, Grace));

    [Fact]
    public void APriceNoPlanNamesLeavesThePlanAlone() =>
        Assert.Null(SubscriptionRules.PlanFor(Account("active", price: "price_unknown"), Catalog, Now, Grace));

    [Fact]
    public void AFailedPaymentKeepsThePlanForTheGracePeriodThenGivesTheDefault()
    {
        Assert.Equal("Pro", SubscriptionRules.PlanFor(Account("past_due", failedSince: Now - Grace + TimeSpan.FromSeconds(1)), Catalog, Now, Grace));
        Assert.Equal("Free", SubscriptionRules.PlanFor(Account("past_due", failedSince: Now - Grace), Catalog, Now, Grace));
        Assert.Equal("Free", SubscriptionRules.PlanFor(Account("active", failedSince: Now - Grace), Catalog, Now, Grace));
    }

    [Fact]
    public void ThePlansPriceIsChosenAmongASubscriptionsItems()
    {
        Assert.Equal("price_pro", SubscriptionRules.PlanPrice(["price_tokens", "price_pro"], Catalog));
        Assert.Equal("price_other", SubscriptionRules.PlanPrice(["price_other"], Catalog));
        Assert.Null(SubscriptionRules.PlanPrice([], Catalog));
    }

    [Fact]
    public void AnEndedSubscriptionDoesNotReplaceALiveOne()
    {
        var live = Account("active");
        SubscriptionState Other(string status) => new("sub_2", "cus_1", status, ["price_pro"], null, null, false);

        Assert.False(SubscriptionRules.Replaces(live, Other("canceled"), deleted: false));
        Assert.False(SubscriptionRules.Replaces(live, Other("active"), deleted: true));
        Assert.True(SubscriptionRules.Replaces(live, Other("active"), deleted: false));
        Assert.True(SubscriptionRules.Replaces(Account("canceled"), Other("incomplete"), deleted: false));
        Assert.True(SubscriptionRules.Replaces(live, Other("canceled") with { SubscriptionId = "sub_1" }, deleted: true));
    }
}
