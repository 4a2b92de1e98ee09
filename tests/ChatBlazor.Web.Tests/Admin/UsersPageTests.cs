using Bunit;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Limits;
using ChatBlazor.Testing;
using ChatBlazor.Web.Admin.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using StackExchange.Redis;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>/admin/users rendered alone (bunit) on a real, migrated database, and on one that does not answer.</summary>
public class UsersPageTests : BunitContext, IAsyncLifetime
{
    private string _connectionString = "";

    private void AddServices(string connectionString)
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        AddAuthorization().SetAuthorized("admin@example.com").SetRoles("Admin", "User");
        // No retries: a database that is away should be reported now, not after a minute of retrying.
        Services.AddDbContextFactory<AppDbContext>(o => o.UseNpgsql(connectionString));
        Services.AddSingleton(PlanCatalog.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plans:Free:RequestsPerMinute"] = "10", ["Plans:Free:TokensPerMinute"] = "1000", ["Plans:Free:TokensPerDay"] = "10000",
        }).Build()));
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(TestServices.Redis));
        Services.AddLogging();
        Services.AddOptions();
        Services.AddSingleton<AuditLog>();
        Services.AddUserAdmin();
        // Last: reaching the renderer builds the service provider.
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
    }

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(UsersPageTests));
        await using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(_connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);
        await db.Database.MigrateAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await TestServices.DropDatabaseAsync(_connectionString);
    }

    [Fact]
    public void WithNoUsersThePageSaysSo()
    {
        AddServices(_connectionString);

        var page = Render<UsersPage>();

        page.WaitForAssertion(() => Assert.Equal("No users yet.", page.Find("[data-testid=admin-users-empty]").TextContent.Trim()), TimeSpan.FromSeconds(20));
        Assert.Empty(page.FindAll("[data-testid=admin-user-row]"));
    }

    [Fact]
    public void WhenTheDatabaseIsAwayThePageSaysSoInsteadOfFailing()
    {
        AddServices("Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=2");

        var page = Render<UsersPage>();

        page.WaitForAssertion(() => Assert.Contains("the database is not reachable", page.Find("[data-testid=admin-users-error]").TextContent),
            TimeSpan.FromSeconds(20));
        Assert.Empty(page.FindAll("[data-testid=admin-user-row]"));
    }
}
