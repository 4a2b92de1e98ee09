using ChatBlazor.Core.Data;
using ChatBlazor.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.TestHost;
using Xunit;

namespace ChatBlazor.Testing;

/// <summary>
/// The real web app on a database of its own, created from the migrations, against the test Redis.
/// One per test class (xunit class fixture); settings can override anything, e.g. point Redis elsewhere.
/// </summary>
public class AppFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings = new();

    public AppFactory()
    {
        _settings["Redis:Configuration"] = TestServices.Redis;
        // Every test signs up from 127.0.0.1, many classes at once; the guard itself is tested with its own setting.
        _settings["SignIn:AttemptsPerMinute"] = "100000";
        // A job queue of this app's own: test classes share one Redis, and their workers must not take each other's replies.
        _settings["Replies:KeyPrefix"] = ReplyKeyPrefix;
        _settings["Logging:UserIdKey"] = UserIdKey;
    }

    /// <summary>The key of the user id hashes in logs and exports (./run.sh generates one; tests know theirs).</summary>
    public const string UserIdKey = "test-user-id-key-0123456789";

    public string ReplyKeyPrefix { get; } = $"test-{Guid.NewGuid():N}:";

    public string ConnectionString { get; private set; } = "";

    public void Set(string key, string? value) => _settings[key] = value;

    /// <summary>A plan in configuration (Plans:&lt;Name&gt;:…), as appsettings.json defines Free, Pro and Team.</summary>
    public void SetPlan(string name, long requestsPerMinute, long tokensPerMinute, long tokensPerDay)
    {
        Set($"Plans:{name}:RequestsPerMinute", requestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set($"Plans:{name}:TokensPerMinute", tokensPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set($"Plans:{name}:TokensPerDay", tokensPerDay.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A new user on <paramref name="plan"/> (null: Plans:DefaultPlan) with one API key.</summary>
    public async Task<(string UserId, string Key)> UserWithKeyAsync(string? plan = null)
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ChatBlazor.Core.Identity.AppUser>>();
        var email = $"api-{Guid.NewGuid():N}@example.com";
        var user = new ChatBlazor.Core.Identity.AppUser { UserName = email, Email = email, Plan = plan };
        var created = await users.CreateAsync(user, "Str0ng!pass");
        if (!created.Succeeded)
            throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
        var (_, secret) = await Services.GetRequiredService<ChatBlazor.Core.ApiKeys.ApiKeyStore>().CreateAsync(user.Id, "test");
        return (user.Id, secret);
    }

    /// <summary>The app's TimeProvider stands still (<see cref="FrozenClock"/>): for tests that count within one window.</summary>
    protected bool FreezeClock { get; init; }

    /// <summary>The PostgreSQL server the app's database is made on: the test server, unless a class brings its own.</summary>
    protected virtual string PostgresServer => TestServices.Postgres;

    public virtual async Task InitializeAsync()
    {
        ConnectionString = await TestServices.CreateDatabaseAsync(GetType().Name, PostgresServer);
        // The schema first, so the app never starts on an empty database; then roles, through the app itself.
        await using (var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(ConnectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options))
            await db.Database.MigrateAsync();
        await ChatBlazor.Web.Admin.Jobs.JobsSchema.InstallAsync(ConnectionString, new ChatBlazor.Web.Admin.Jobs.JobsOptions().Schema);
        await DatabaseSetup.MigrateAsync(Services);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // UseSetting, not ConfigureAppConfiguration: Program reads configuration before Build().
        builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.UseEnvironment("Production");
        if (FreezeClock)
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(new FrozenClock()));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (ConnectionString.Length > 0)
            await DropDatabaseAsync();
        await TestServices.DeleteRedisKeysAsync(ReplyKeyPrefix);
    }

    /// <summary>Removes the app's database once the app has stopped.</summary>
    protected virtual Task DropDatabaseAsync() => TestServices.DropDatabaseAsync(ConnectionString);
}
