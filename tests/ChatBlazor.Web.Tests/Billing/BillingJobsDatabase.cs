using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>A real PostgreSQL database of one test's own, created from the migrations, for the billing jobs.</summary>
public sealed class BillingJobsDatabase : IDbContextFactory<AppDbContext>, IAsyncLifetime
{
    private string _connectionString = "";

    public AppDbContext CreateDbContext() => new(new DbContextOptionsBuilder<AppDbContext>()
        .UseNpgsql(_connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(BillingJobsDatabase));
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync();
    }

    public async Task<string> NewUserAsync()
    {
        var email = $"u-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant(), Plan = "Free" };
        await using var db = CreateDbContext();
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    /// <summary>The customer linked to the user with a live subscription to <paramref name="priceId"/> for [start, end).</summary>
    public async Task LinkAsync(string userId, string customerId, string priceId, DateTimeOffset start, DateTimeOffset end, string status = "active")
    {
        await using var db = CreateDbContext();
        db.BillingAccounts.Add(new BillingAccount
        {
            CustomerId = customerId, UserId = userId, SubscriptionId = $"sub_{Guid.NewGuid():N}", Status = status, PriceId = priceId,
            CurrentPeriodStart = start, CurrentPeriodEnd = end, UpdatedAt = start,
        });
        await db.SaveChangesAsync();
    }

    /// <summary>A new period, as a renewal's webhook would leave the account.</summary>
    public async Task RollOverAsync(string customerId, DateTimeOffset start, DateTimeOffset end)
    {
        await using var db = CreateDbContext();
        await db.BillingAccounts.Where(a => a.CustomerId == customerId)
            .ExecuteUpdateAsync(a => a.SetProperty(x => x.CurrentPeriodStart, start).SetProperty(x => x.CurrentPeriodEnd, end));
    }

    /// <summary>One completion in the ledger.</summary>
    public async Task LedgerAsync(string userId, DateTimeOffset at, int prompt, int completion, string source = UsageSource.Chat)
    {
        await using var db = CreateDbContext();
        db.UsageRecords.Add(new UsageRecord
        {
            UserId = userId, Source = source, Model = "chatblazor-mini", PromptTokens = prompt, CompletionTokens = completion,
            Status = CompletionStatus.Complete, CreatedAt = at,
        });
        await db.SaveChangesAsync();
    }

    public async Task<List<MeterReport>> ReportsAsync(string userId)
    {
        await using var db = CreateDbContext();
        return await db.MeterReports.AsNoTracking().Where(r => r.UserId == userId).OrderBy(r => r.CreatedAt).ThenBy(r => r.WindowEnd).ToListAsync();
    }

    public async Task<List<BillingInvoice>> InvoicesAsync(string customerId)
    {
        await using var db = CreateDbContext();
        return await db.Invoices.AsNoTracking().Where(i => i.CustomerId == customerId).ToListAsync();
    }

    public Task DisposeAsync() => TestServices.DropDatabaseAsync(_connectionString);

    /// <summary>
    /// Free (the default), Pro (a flat price, 1 000 tokens included, a metered price beyond) and Basic (a flat price,
    /// nothing metered).
    /// </summary>
    public static readonly PlanCatalog Catalog = PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Plans:DefaultPlan"] = "Free",
        ["Plans:Free:RequestsPerMinute"] = "1", ["Plans:Free:TokensPerMinute"] = "1", ["Plans:Free:TokensPerDay"] = "1",
        ["Plans:Pro:RequestsPerMinute"] = "2", ["Plans:Pro:TokensPerMinute"] = "2", ["Plans:Pro:TokensPerDay"] = "2",
        ["Plans:Pro:StripePriceId"] = ProPrice, ["Plans:Pro:IncludedTokens"] = "1000", ["Plans:Pro:StripeMeteredPriceId"] = "price_tokens_test",
        ["Plans:Basic:RequestsPerMinute"] = "2", ["Plans:Basic:TokensPerMinute"] = "2", ["Plans:Basic:TokensPerDay"] = "2",
        ["Plans:Basic:StripePriceId"] = BasicPrice,
    }).Build());

    public const string ProPrice = "price_pro_test", BasicPrice = "price_basic_test";
}
