using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Usage;

public static class UsageAnalyticsServices
{
    /// <summary>The rollups behind the admin usage page: their aggregation (a Hangfire job) and their queries.</summary>
    public static IServiceCollection AddUsageAnalytics(this IServiceCollection services)
    {
        services.AddSingleton<UsageAggregator>();
        services.AddSingleton<UsageAnalytics>();
        return services;
    }
}
