using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;

namespace ChatBlazor.Web.Limits;

public static class LimitsExtensions
{
    /// <summary>Plans, the rate limiter (Redis, with the in-process fallback) and the usage ledger, for chat and API alike.</summary>
    public static void AddLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(PlanCatalog.From(builder.Configuration)); // bad plan settings stop the start, naming the key
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MemoryLimitCounters>();
        builder.Services.AddSingleton<ILimitCounters, RedisLimitCounters>();
        builder.Services.AddSingleton<RateLimiter>();
        builder.Services.AddSingleton<UserPlans>();
        builder.Services.AddSingleton<UsageLedger>();
    }
}
