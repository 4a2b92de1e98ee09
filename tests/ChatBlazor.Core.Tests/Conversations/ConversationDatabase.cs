using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests.Conversations;

/// <summary>A real PostgreSQL database of one test class's own, created from the migrations, with users Ada and Bob.</summary>
public sealed class ConversationDatabase : IDbContextFactory<AppDbContext>, IAsyncLifetime
{
    public const string Ada = "user-ada", Bob = "user-bob";
    private string _connectionString = "";

    public AppDbContext CreateDbContext() => new(new DbContextOptionsBuilder<AppDbContext>()
        .UseNpgsql(_connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(ConversationDatabase));
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync();
        db.Users.AddRange(new AppUser { Id = Ada, UserName = "ada" }, new AppUser { Id = Bob, UserName = "bob" });
        await db.SaveChangesAsync();
    }

    /// <summary>A user of one test's own, for assertions about everything a user has.</summary>
    public async Task<string> NewUserAsync()
    {
        var user = new AppUser { UserName = $"user-{Guid.NewGuid():N}" };
        await using var db = CreateDbContext();
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    public Task DisposeAsync() => TestServices.DropDatabaseAsync(_connectionString);
}
