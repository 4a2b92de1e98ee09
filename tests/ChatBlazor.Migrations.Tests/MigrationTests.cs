using ChatBlazor.Core.Data;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Migrations.Tests;

public class MigrationTests
{
    private static AppDbContext Context(string connectionString) =>
        new(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly))
            .Options);

    [Fact]
    public void TheMigrationsCoverEveryChangeToTheModel()
    {
        using var db = new DesignTimeDbContextFactory().CreateDbContext([]);

        // Fails when someone changes an entity and forgets `dotnet ef migrations add`.
        Assert.False(db.Database.HasPendingModelChanges());
    }

    [Fact]
    public async Task MigratingAnEmptyDatabaseTwiceBuildsTheSchemaOnce()
    {
        var connectionString = await TestServices.CreateDatabaseAsync(nameof(MigrationTests));
        try
        {
            await using var db = Context(connectionString);
            await db.Database.MigrateAsync();
            await db.Database.MigrateAsync();

            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            Assert.Equal(0, await db.Users.CountAsync());
            Assert.Equal(0, await db.DataProtectionKeys.CountAsync());
        }
        finally
        {
            await TestServices.DropDatabaseAsync(connectionString);
        }
    }
}
