using ChatBlazor.Core.Data;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Routing;

public static class RoutingServices
{
    /// <summary>
    /// The admins' model settings (<see cref="ModelCatalog"/>) kept in sync across instances. The host adds its
    /// <see cref="IModelHosting"/> and <see cref="IModelStates"/>.
    /// </summary>
    public static IServiceCollection AddModelRouting(this IServiceCollection services)
    {
        services.AddSharedSettings<ModelCatalog>();
        return services;
    }
}
