using ChatBlazor.Core.Completions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatBlazor.Core.Admin;

public static class UserAdminServices
{
    /// <summary>
    /// Managing users (<see cref="UserAdmin"/>), ending a user's sessions on every instance (<see cref="SignOutBroadcast"/>)
    /// and noting when users were last active. Needs Identity, the limits, the replies' options and Redis. Safe to call
    /// more than once (the console and the sign-in pieces both need it).
    /// </summary>
    public static IServiceCollection AddUserAdmin(this IServiceCollection services)
    {
        services.TryAddSingleton<SignOutBroadcast>();
        services.TryAddSingleton<UserAdmin>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageMeter, LastActivity>());
        return services;
    }
}
