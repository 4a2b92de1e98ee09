using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace ChatBlazor.Web.Tests.Telemetry;

/// <summary>
/// Gives each request of the in-memory test server the remote address its <see cref="Header"/> names (the test
/// server has no socket, so no address of its own): a caller from any network, for rules that depend on it.
/// </summary>
public sealed class RemoteAddressDouble : IStartupFilter
{
    public const string Header = "X-Test-Remote-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, nextMiddleware) =>
        {
            if (http.Request.Headers.TryGetValue(Header, out var address))
                http.Connection.RemoteIpAddress = IPAddress.Parse(address.ToString());
            return nextMiddleware(http);
        });
        next(app);
    };
}
