using ChatBlazor.Core.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Limits;

public static class LimitServices
{
    /// <summary>
    /// Plans (bad settings stop the start, naming the key), the rate limiter (Redis, with the in-process fallback),
    /// concurrent replies and the usage ledger, for chat and API alike. Needs an <c>IConnectionMultiplexer</c>.
    /// </summary>
    public static IServiceCollection AddLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(PlanCatalog.From(configuration));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<MemoryLimitCounters>();
        services.AddSingleton<ILimitCounters, RedisLimitCounters>();
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<ConcurrentReplies>();
        services.AddSingleton<UserPlans>();
        services.AddSingleton<UsageLedger>();
        return services;
    }
}
