using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Routing;
using ChatBlazor.Core.Tests.Conversations;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Core.Tests.Completions;

/// <summary>
/// The completion pipeline and reply jobs as they run in production — PostgreSQL (a database of this class's own),
/// the test Redis (keys of this class's own), the Redis rate limiter — in front of an engine double.
/// </summary>
public sealed class PipelineHarness : IAsyncLifetime
{
    public ConversationDatabase Database { get; } = new();
    public IConnectionMultiplexer Redis { get; private set; } = null!;

    public static readonly PlanCatalog Plans = new(new Dictionary<string, Plan>
    {
        ["Free"] = new("Free", RequestsPerMinute: 1000, TokensPerMinute: 1_000_000, TokensPerDay: 10_000_000, [], ConcurrentReplies: 50),
        ["Tiny"] = new("Tiny", RequestsPerMinute: 1, TokensPerMinute: 1_000, TokensPerDay: 10_000, []),
        ["Single"] = new("Single", RequestsPerMinute: 1000, TokensPerMinute: 1_000_000, TokensPerDay: 10_000_000, [], ConcurrentReplies: 1),
        ["OtherOnly"] = new("OtherOnly", RequestsPerMinute: 1000, TokensPerMinute: 1_000_000, TokensPerDay: 10_000_000, ["other"]),
    }, "Free");

    public RateLimiter Limiter { get; private set; } = null!;
    public ConcurrentReplies Running { get; private set; } = null!;
    public ConversationStore Store { get; private set; } = null!;
    public UserPlans UserPlans { get; private set; } = null!;
    public string KeyPrefix { get; } = $"test-{Guid.NewGuid():N}:";
    /// <summary>Moderation with the built-in rules and no classifier, its settings in this class's database.</summary>
    public ModerationService Moderation { get; private set; } = null!;
    public ModerationSettings ModerationSettings { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        Redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        // A frozen clock: counts that a test makes within one minute never straddle two windows.
        var clock = new FrozenClock();
        Limiter = new RateLimiter(new RedisLimitCounters(Redis), new MemoryLimitCounters(clock), clock, NullLogger<RateLimiter>.Instance);
        Running = new ConcurrentReplies(Redis, clock, NullLogger<ConcurrentReplies>.Instance);
        Store = new ConversationStore(Database);
        UserPlans = new UserPlans(Database, Plans);
        var options = ReplyOptions(KeyPrefix);
        ModerationSettings = new ModerationSettings(Database, Redis, options, ModerationRules.Defaults, rules => new RuleDetector(rules), NullLogger<ModerationSettings>.Instance);
        var users = new UserAdmin(Database, new ServiceCollection().BuildServiceProvider().GetRequiredService<IServiceScopeFactory>(), Plans,
            new AuditLog(Database, TimeProvider.System), new SignOutBroadcast(Redis, options, NullLogger<SignOutBroadcast>.Instance), TimeProvider.System);
        Moderation = new ModerationService(ModerationSettings, [], Database, users, TimeProvider.System, NullLogger<ModerationService>.Instance);
    }

    public CompletionPipeline Pipeline(IInferenceEngine engine, ModelCatalog? catalog = null) => new(engine, Limiter, Running, new UsageLedger(Database, NullLogger<UsageLedger>.Instance),
        Moderation, [], TimeProvider.System, NullLogger<CompletionPipeline>.Instance, catalog ?? Catalog(), []);

    /// <summary>The admins' model settings as stored in this class's database (none: every model enabled as configured).</summary>
    public ModelCatalog Catalog() => new(Database, Redis, ReplyOptions(KeyPrefix), [], NullLogger<ModelCatalog>.Instance);

    /// <summary>Reply options for a test: its own keys (under this class's), every chunk saved, no shutdown grace.</summary>
    public IOptions<ReplyOptions> ReplyOptions(string keyPrefix, TimeSpan? claimAfter = null) => Options.Create(new ReplyOptions
    {
        KeyPrefix = keyPrefix, SaveInterval = TimeSpan.Zero, ClaimAfter = claimAfter ?? TimeSpan.FromSeconds(20), ShutdownGrace = TimeSpan.Zero,
    });

    /// <summary>A new user on <paramref name="plan"/>.</summary>
    public async Task<(string Id, CompletionCaller Caller)> UserAsync(string plan = "Free")
    {
        var id = await Database.NewUserAsync();
        await using (var db = Database.CreateDbContext())
            await db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(s => s.SetProperty(u => u.Plan, plan));
        return (id, new CompletionCaller(id, null, Plans.For(plan)));
    }

    /// <summary>Tokens the user has used today, as the limiter counts them.</summary>
    public async Task<long> UsedTodayAsync(string userId, string plan = "Free")
    {
        var daily = await Limiter.DailyTokensAsync(userId, Plans.For(plan));
        return daily.Limit - daily.Remaining;
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        await TestServices.DeleteRedisKeysAsync(KeyPrefix);
        await Database.DisposeAsync();
    }
}
