using System.Security.Claims;
using Bunit;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Testing;
using ChatBlazor.Web.Billing;
using ChatBlazor.Web.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>/billing rendered alone (bunit) on a real, migrated database: billing off, a user without a subscription, and Stripe unreachable.</summary>
public class BillingPageTests : BunitContext, IAsyncLifetime
{
    private string _connectionString = "";
    private string _userId = "";

    private void AddServices(StripeOptions stripe)
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        AddAuthorization().SetAuthorized("user@example.com").SetClaims(new Claim(ClaimTypes.NameIdentifier, _userId), new Claim(ClaimTypes.Email, "user@example.com"));
        Services.AddDbContextFactory<AppDbContext>(o => o.UseNpgsql(_connectionString));
        Services.AddSingleton(PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plans:Free:RequestsPerMinute"] = "10", ["Plans:Free:TokensPerMinute"] = "1000", ["Plans:Free:TokensPerDay"] = "10000",
            ["Plans:Pro:RequestsPerMinute"] = "60", ["Plans:Pro:TokensPerMinute"] = "6000", ["Plans:Pro:TokensPerDay"] = "60000",
            ["Plans:Pro:StripePriceId"] = "price_pro", ["Plans:Pro:StripeMeteredPriceId"] = "price_tokens", ["Plans:Pro:IncludedTokens"] = "5000",
        }).Build()));
        Services.AddSingleton<UserPlans>();
        Services.AddSingleton(new BillingPolicy(TimeSpan.FromDays(7)));
        Services.AddSingleton(TimeProvider.System);
        Services.AddLogging();
        Services.AddSingleton(Options.Create(stripe));
        Services.AddSingleton(Options.Create(new AppOptions()));
        Services.AddSingleton(_ => BillingExtensions.StripeClientFor(stripe));
        Services.AddSingleton<BillingOverviews>();
        Services.AddSingleton<StripePrices>();
        Services.AddSingleton<BillingSessions>();
        // Last: reaching the renderer builds the service provider.
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
    }

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(BillingPageTests));
        await using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(_connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);
        await db.Database.MigrateAsync();
        var user = new AppUser { UserName = "user@example.com", Email = "user@example.com", Plan = "Free" };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        _userId = user.Id;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await TestServices.DropDatabaseAsync(_connectionString);
    }

    [Fact]
    public void WithBillingOffThePageShowsPlanLimitsAndUsageAndSaysNothingIsCharged()
    {
        AddServices(new StripeOptions());

        var page = Render<BillingPage>();

        page.WaitForAssertion(() => Assert.Equal("Free", page.Find("[data-testid=billing-plan]").TextContent.Trim()), TimeSpan.FromSeconds(20));
        Assert.Contains("Billing is not configured on this server: nothing is charged.", page.Find("[data-testid=billing-not-configured]").TextContent);
        Assert.Equal("10", page.Find("[data-testid=billing-limit-rpm]").TextContent.Trim());
        Assert.Equal("No tokens used yet this period.", page.Find("[data-testid=billing-usage-empty]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid^=billing-upgrade-]"));
        Assert.Empty(page.FindAll("[data-testid=billing-portal]"));
        Assert.Empty(page.FindAll("[data-testid=billing-test-mode]"));
    }

    [Fact]
    public void WhenStripeCannotBeReachedThePageSaysWhatIsUnavailableAndShowsTheRest()
    {
        // Port 1 on loopback refuses connections: Stripe (or the emulator) is down.
        AddServices(new StripeOptions { SecretKey = "sk_test_unreachable", WebhookSecret = "whsec_x", ApiBase = "http://127.0.0.1:1" });

        var page = Render<BillingPage>();

        page.WaitForAssertion(() => Assert.Contains("prices, upgrading and the billing portal are unavailable",
            page.Find("[data-testid=billing-unavailable]").TextContent), TimeSpan.FromSeconds(60));
        Assert.Equal("Free", page.Find("[data-testid=billing-plan]").TextContent.Trim());
        Assert.Equal("10", page.Find("[data-testid=billing-limit-rpm]").TextContent.Trim());
        Assert.Equal("No invoices yet.", page.Find("[data-testid=billing-invoices-empty]").TextContent.Trim());
        Assert.NotNull(page.Find("[data-testid=billing-test-mode]"));
        // No subscription: Pro can be bought, once Stripe answers again.
        Assert.True(page.Find("[data-testid=billing-upgrade-Pro]").HasAttribute("disabled"));
    }
}
