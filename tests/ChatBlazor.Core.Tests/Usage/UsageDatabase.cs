using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests.Usage;

/// <summary>A real PostgreSQL database of one test class's own, created from the migrations.</summary>
public sealed class UsageDatabase : IDbContextFactory<AppDbContext>, IAsyncLifetime
{
    private string _connectionString = "";

    public AppDbContext CreateDbContext() => new(new DbContextOptionsBuilder<AppDbContext>()
        .UseNpgsql(_connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(UsageDatabase));
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync();
    }

    public async Task<string> NewUserAsync()
    {
        var email = $"u-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant() };
        await using var db = CreateDbContext();
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    public Task DisposeAsync() => TestServices.DropDatabaseAsync(_connectionString);
}
