using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatBlazor.Core.Moderation;

public static class ModerationServices
{
    /// <summary>
    /// The moderation policy (<see cref="ModerationService"/>) and its settings kept in sync across instances
    /// (<see cref="ModerationSettings"/>). The host registers the built-in rules (each a <see cref="ModerationRule"/>
    /// singleton), the <see cref="ModerationDetectorFactory"/> that compiles rules, and, where it has one, the
    /// classifier (<c>IModerationClassifier</c>). Needs the user administration (<see cref="UserAdminServices.AddUserAdmin"/>).
    /// </summary>
    public static IServiceCollection AddModeration(this IServiceCollection services)
    {
        services.TryAddSingleton<AuditLog>();
        services.AddUserAdmin();
        services.AddSharedSettings<ModerationSettings>();
        services.AddSingleton<ModerationService>();
        services.AddSingleton<ModerationWarnings>();
        return services;
    }
}
