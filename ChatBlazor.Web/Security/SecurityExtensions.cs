using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Security;

public static class SecurityExtensions
{
    /// <summary>The public URL, links built from it, and the host names this server answers to.</summary>
    public static void AddSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AppOptions>().BindConfiguration(AppOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AppOptions>, AppOptionsValidation>();
        builder.Services.AddSingleton<PublicLinks>();

        // AllowedHosts, when set (even "*"), is the operator's choice and the framework applies it. Unset, answer
        // only to App:PublicUrl's host and loopback (so ./run.sh and local checks work), instead of the
        // framework's default of any host.
        builder.Services.AddOptions<HostFilteringOptions>().Configure<IConfiguration, IOptions<AppOptions>>((hosts, configuration, app) =>
        {
            if (!string.IsNullOrWhiteSpace(configuration["AllowedHosts"]))
                return;
            hosts.AllowedHosts = ["localhost", "127.0.0.1", "[::1]"];
            if (app.Value.PublicBase() is { } publicBase)
                hosts.AllowedHosts.Add(publicBase.IdnHost);
        });
    }
}
