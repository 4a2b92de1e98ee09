using System.Net;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Security;

public static class SecurityExtensions
{
    /// <summary>The public URL, links built from it, the host names this server answers to, and the proxies it believes.</summary>
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

        builder.Services.AddSingleton<SecurityHeaders>();
        builder.Services.AddTransient<IStartupFilter, SecurityStartupFilter>();

        builder.Services.AddOptions<TrustedProxyOptions>().BindConfiguration(TrustedProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((forwarded, proxies) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The defaults trust loopback; only what is configured is trusted here.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in proxies.Value.KnownProxies)
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in proxies.Value.KnownNetworks)
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            // Walk back through every known proxy in a chain (CDN, then load balancer) to the first address that
            // is not one; entries before it were written by the client and are ignored.
            forwarded.ForwardLimit = null;
        });
    }

    /// <summary>
    /// Forwarded headers, then the security headers, in front of everything else. A startup filter, not a call in
    /// Program: WebApplication puts authentication and authorization in front of Program's middleware, so a 401
    /// from /v1 would otherwise leave without the headers.
    /// </summary>
    private sealed class SecurityStartupFilter(IOptions<TrustedProxyOptions> proxies, SecurityHeaders headers) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            // With no proxy configured the middleware stays out: with empty lists it would believe every sender.
            if (proxies.Value.IsConfigured)
                app.UseForwardedHeaders();
            app.Use(headers.InvokeAsync);
            next(app);
        };
    }
}
