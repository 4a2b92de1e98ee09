using System.Security.Cryptography;
using ChatBlazor.Web.Chat;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Security;

/// <summary>
/// The headers every response carries: a Content-Security-Policy that lets the page run only this site's scripts
/// (and the one inline import map, by nonce), load images only from here, data: URLs and Chat:ImageHosts, talk
/// only to this site (Blazor's WebSocket) and never be framed; nosniff; a referrer that leaves no path; and HSTS
/// on HTTPS requests.
/// </summary>
internal sealed class SecurityHeaders(IOptions<ChatImageOptions> images)
{
    private const string NonceItem = "ChatBlazor.CspNonce";

    // A year, as HSTS preload lists ask; without includeSubDomains, since other hosts under the domain are not ours.
    private const string StrictTransportSecurity = "max-age=31536000";

    // MudBlazor sets inline styles on its components, so styles need 'unsafe-inline'; scripts do not.
    private readonly string _policyBeforeNonce = "default-src 'self'; script-src 'self' 'nonce-";
    private readonly string _policyAfterNonce = "'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
        + string.Concat(images.Value.ImageHosts.Select(host => $" https://{host}"))
        + "; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    /// <summary>The nonce of this response's Content-Security-Policy, for the page's one inline script (the import map).</summary>
    public static string? NonceOf(HttpContext http) => http.Items[NonceItem] as string;

    public Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        http.Items[NonceItem] = nonce;
        // When the response starts, not now: the exception handler and status-code pages clear headers set earlier.
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = _policyBeforeNonce + nonce + _policyAfterNonce;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            // HTTPS as the client sees it (forwarded headers ran first); never for loopback, where it would pin
            // every local port of the browser to HTTPS.
            if (http.Request.IsHttps && http.Request.Host.Host is not ("localhost" or "127.0.0.1" or "[::1]"))
                headers.StrictTransportSecurity = StrictTransportSecurity;
            return Task.CompletedTask;
        });
        return next(http);
    }
}
