using ChatBlazor.Core.Limits;
using Microsoft.Extensions.Configuration;

namespace ChatBlazor.Core.Tests.Limits;

public sealed class PlanCatalogTests
{
    private static PlanCatalog From(params (string Key, string Value)[] settings) =>
        PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build());

    [Fact]
    public void PlansComeFromTheirSectionsAndUnknownNamesGetTheDefault()
    {
        var catalog = From(("Plans:DefaultPlan", "Pro"),
            ("Plans:Free:RequestsPerMinute", "1"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3"),
            ("Plans:Pro:RequestsPerMinute", "10"), ("Plans:Pro:TokensPerMinute", "20"), ("Plans:Pro:TokensPerDay", "30"), ("Plans:Pro:Models:0", "big"));

        Assert.Equal(new[] { "Free", "Pro" }, catalog.Plans.Keys.Order());
        Assert.Equal("Pro", catalog.Default.Name);
        Assert.Equal((10L, 20L, 30L), (catalog.For("pro").RequestsPerMinute, catalog.For("pro").TokensPerMinute, catalog.For("pro").TokensPerDay));
        Assert.Equal("Pro", catalog.For("Retired").Name);
        Assert.Equal("Pro", catalog.For(null).Name);
        Assert.True(catalog.For("Free").Allows("anything"));
        Assert.False(catalog.For("Pro").Allows("small"));
    }

    [Fact]
    public void ABadSettingStopsTheStartNamingItsKey()
    {
        var zero = Assert.Throws<InvalidOperationException>(() => From(
            ("Plans:Free:RequestsPerMinute", "0"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3")));
        Assert.Contains("Plans:Free:RequestsPerMinute", zero.Message);

        var missingDefault = Assert.Throws<InvalidOperationException>(() => From(
            ("Plans:DefaultPlan", "Gold"), ("Plans:Free:RequestsPerMinute", "1"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3")));
        Assert.Contains("Plans:DefaultPlan names 'Gold'", missingDefault.Message);

        Assert.Contains("No plans configured", Assert.Throws<InvalidOperationException>(() => From()).Message);
    }

    [Fact]
    public void BillingSettingsAreReadAndAPriceBelongsToOnePlan()
    {
        var catalog = From(("Plans:Free:RequestsPerMinute", "1"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3"),
            ("Plans:Pro:RequestsPerMinute", "10"), ("Plans:Pro:TokensPerMinute", "20"), ("Plans:Pro:TokensPerDay", "30"),
            ("Plans:Pro:StripePriceId", " price_pro "), ("Plans:Pro:IncludedTokens", "1000000"), ("Plans:Pro:StripeMeteredPriceId", "price_tokens"));

        var pro = catalog.For("Pro");
        Assert.Equal(("price_pro", 1_000_000L, "price_tokens"), (pro.StripePriceId, pro.IncludedTokens, pro.StripeMeteredPriceId));
        Assert.Equal((null as string, 0L, null as string), (catalog.Default.StripePriceId, catalog.Default.IncludedTokens, catalog.Default.StripeMeteredPriceId));
        Assert.Same(pro, catalog.ForStripePrice("price_pro"));
        Assert.Null(catalog.ForStripePrice("price_tokens"));
        Assert.Null(catalog.ForStripePrice(null));

        var shared = Assert.Throws<InvalidOperationException>(() => From(
            ("Plans:Free:RequestsPerMinute", "1"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3"), ("Plans:Free:StripePriceId", "price_x"),
            ("Plans:Pro:RequestsPerMinute", "1"), ("Plans:Pro:TokensPerMinute", "2"), ("Plans:Pro:TokensPerDay", "3"), ("Plans:Pro:StripePriceId", "price_x")));
        Assert.Contains("Plans:Free:StripePriceId and Plans:Pro:StripePriceId", shared.Message);

        var negative = Assert.Throws<InvalidOperationException>(() => From(
            ("Plans:Free:RequestsPerMinute", "1"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3"), ("Plans:Free:IncludedTokens", "-1")));
        Assert.Contains("Plans:Free:IncludedTokens", negative.Message);

        var spaced = Assert.Throws<InvalidOperationException>(() => From(
            ("Plans:Free:RequestsPerMinute", "1"), ("Plans:Free:TokensPerMinute", "2"), ("Plans:Free:TokensPerDay", "3"), ("Plans:Free:StripePriceId", "price 1")));
        Assert.Contains("Plans:Free:StripePriceId", spaced.Message);
    }
}
