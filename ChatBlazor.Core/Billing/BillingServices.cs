using ChatBlazor.Core.Admin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatBlazor.Core.Billing;

public static class BillingServices
{
    /// <summary>Applying Stripe's events and reading a user's billing. Needs the limits (plans), a <see cref="BillingPolicy"/> and the database.</summary>
    public static IServiceCollection AddBillingDomain(this IServiceCollection services)
    {
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<BillingEventApplier>();
        services.TryAddSingleton<BillingOverviews>();
        return services;
    }
}
