using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatBlazor.Core.Tests.Billing;

/// <summary>A real PostgreSQL database of one test class's own, created from the migrations.</summary>
public sealed class BillingDatabase : IDbContextFactory<AppDbContext>, IAsyncLifetime
{
    private string _connectionString = "";

    public AppDbContext CreateDbContext() => new(new DbContextOptionsBuilder<AppDbContext>()
        .UseNpgsql(_connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(BillingDatabase));
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync();
    }

    public async Task<(string Id, string Email)> NewUserAsync(string plan)
    {
        var email = $"u-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant(), Plan = plan };
        await using var db = CreateDbContext();
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return (user.Id, email);
    }

    public async Task<string?> PlanOfAsync(string userId)
    {
        await using var db = CreateDbContext();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.Plan).SingleAsync();
    }

    public Task DisposeAsync() => TestServices.DropDatabaseAsync(_connectionString);
}

/// <summary>The grace period after a failed payment, with the clock moved by hand across its end.</summary>
public sealed class GracePeriodTests(BillingDatabase database) : IClassFixture<BillingDatabase>
{
    private static readonly PlanCatalog Catalog = PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Plans:DefaultPlan"] = "Free",
        ["Plans:Free:RequestsPerMinute"] = "1", ["Plans:Free:TokensPerMinute"] = "1", ["Plans:Free:TokensPerDay"] = "1",
        ["Plans:Pro:RequestsPerMinute"] = "2", ["Plans:Pro:TokensPerMinute"] = "2", ["Plans:Pro:TokensPerDay"] = "2", ["Plans:Pro:StripePriceId"] = "price_pro",
    }).Build());

    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromDays(3);

    private static string Id(string prefix) => $"{prefix}_{Guid.NewGuid():N}";

    private static InvoiceState Invoice(string id, string customer, string subscription, string status) =>
        new(id, customer, subscription, status, 2000, status == "paid" ? 2000 : 0, 2000, "usd", null, null, T0, T0.AddMonths(1), T0.AddMonths(1));

    [Fact]
    public async Task AFailedPaymentKeepsThePlanUntilTheGracePeriodEndsAndPayingRestoresIt()
    {
        var clock = new ClockDouble(T0);
        var applier = new BillingEventApplier(database, Catalog, new BillingPolicy(Grace), new AuditLog(database, clock), clock, NullLogger<BillingEventApplier>.Instance);
        var (user, email) = await database.NewUserAsync("Free");
        var (customer, subscription, invoice) = (Id("cus"), Id("sub"), Id("in"));
        await applier.ApplyAsync(new CheckoutCompleted(Id("evt"), T0, user, customer, subscription));
        await applier.ApplyAsync(new SubscriptionChanged(Id("evt"), StripeEventTypes.SubscriptionCreated, T0,
            new SubscriptionState(subscription, customer, "active", ["price_pro"], T0, T0.AddMonths(1), false)));
        Assert.Equal("Pro", await database.PlanOfAsync(user));

        var failedAt = T0.AddMonths(1);
        clock.Now = failedAt;
        Assert.Equal(BillingOutcome.Applied, await applier.ApplyAsync(new InvoiceChanged(Id("evt"), StripeEventTypes.InvoicePaymentFailed, failedAt, Invoice(invoice, customer, subscription, "open"))));
        Assert.Equal("Pro", await database.PlanOfAsync(user));

        clock.Now = failedAt + Grace - TimeSpan.FromSeconds(1);
        Assert.Equal(0, await applier.EndGracePeriodsAsync());
        Assert.Equal("Pro", await database.PlanOfAsync(user));

        clock.Now = failedAt + Grace;
        Assert.Equal(1, await applier.EndGracePeriodsAsync());
        Assert.Equal("Free", await database.PlanOfAsync(user));
        Assert.Equal(0, await applier.EndGracePeriodsAsync());

        clock.Now = failedAt + Grace + TimeSpan.FromHours(1);
        await applier.ApplyAsync(new InvoiceChanged(Id("evt"), StripeEventTypes.InvoicePaid, clock.Now, Invoice(invoice, customer, subscription, "paid")));
        Assert.Equal("Pro", await database.PlanOfAsync(user));
        Assert.Equal(0, await applier.EndGracePeriodsAsync());

        await using var db = database.CreateDbContext();
        var changes = await db.AuditEntries.Where(e => e.Target == email && e.Action == AuditActions.UserPlan).OrderBy(e => e.Id).Select(e => e.Details!).ToListAsync();
        Assert.Equal(3, changes.Count);
        Assert.StartsWith("Pro → Free (payment failed", changes[1]);
        Assert.Contains("grace period over", changes[1]);
        Assert.StartsWith("Free → Pro (invoice", changes[2]);
    }
}
