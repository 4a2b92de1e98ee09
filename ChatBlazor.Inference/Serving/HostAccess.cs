using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// Who may use an inference host, and where it listens. With an <see cref="ApiKey"/>, every request on the main
/// addresses needs <c>Authorization: Bearer KEY</c>, except <c>/health</c> (it says only "ok") and <c>/metrics</c>
/// (the allowed networks, as without a key, or a caller with the key). The <see cref="OpsUrls"/> serve
/// <c>/health</c> and <c>/metrics</c> to whoever reaches them and nothing else: probes and Prometheus carry no
/// secret, and an ops address that leaks runs no completions. <see cref="Certificate"/> serves the https addresses.
/// </summary>
public sealed record HostAccess(string? ApiKey = null, string? OpsUrls = null, X509Certificate2? Certificate = null)
{
    /// <summary>The environment variable <c>serve</c> reads the key from when no <c>--api-key-file</c> is given.</summary>
    public const string ApiKeyVariable = "CHATBLAZOR_INFERENCE_API_KEY";

    /// <summary>A key shorter than this can be guessed over the network: 16 random characters or more.</summary>
    public const int MinimumKeyLength = 16;

    // A marker a connection on an ops address carries from Kestrel's connection middleware into its requests.
    private const string OpsConnection = "ChatBlazor.OpsConnection";

    // Hashes have one length, so comparing them in fixed time tells a caller nothing about the key's length either.
    private readonly byte[]? _keyHash = ApiKey is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey));

    // A record prints every property in ToString: never the key, which would then reach a log or a test's output.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"ApiKey = {(ApiKey is null ? "none" : "set")}, OpsUrls = {OpsUrls}, Certificate = {Certificate?.Subject}");
        return true;
    }

    /// <summary>Why <paramref name="key"/> cannot be a host's API key, or null when it can; it travels in an HTTP header.</summary>
    public static string? Problem(string key) =>
        key.Length < MinimumKeyLength ? $"the key must be at least {MinimumKeyLength} characters (e.g. openssl rand -hex 32)"
        : key.Any(c => c is <= ' ' or > '~') ? "the key may only use visible ASCII characters (no spaces)"
        : null;

    /// <summary>The request carries the right bearer token (false when the host has no key: nothing to present).</summary>
    public bool Presents(HttpContext http)
    {
        if (_keyHash is null)
            return false;
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        var token = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(token, _keyHash);
    }

    /// <summary>Whether the request came in on an ops address.</summary>
    public static bool OnOpsAddress(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(OpsConnection) ?? false;

    /// <summary>Kestrel's listeners: the main addresses first, then the ops addresses (their order in <c>app.Urls</c>).</summary>
    internal void Listen(KestrelServerOptions kestrel, string urls)
    {
        ListenOn(kestrel, urls, ops: false);
        if (OpsUrls is not null)
            ListenOn(kestrel, OpsUrls, ops: true);
    }

    private void ListenOn(KestrelServerOptions kestrel, string urls, bool ops)
    {
        foreach (var url in SplitUrls(urls))
        {
            var uri = new Uri(url);
            void Configure(ListenOptions listen)
            {
                if (uri.Scheme == Uri.UriSchemeHttps)
                    listen.UseHttps(Certificate ?? throw new ArgumentException($"{url} is https but the host has no certificate", nameof(urls)));
                if (ops)
                    listen.Use(next => connection =>
                    {
                        connection.Items[OpsConnection] = true;
                        return next(connection);
                    });
            }
            // As Kestrel reads UseUrls: localhost is both loopbacks, an IP address itself, and any other name every address.
            if (uri.HostNameType == UriHostNameType.Dns && uri.Host == "localhost")
                kestrel.ListenLocalhost(uri.Port, Configure);
            else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
                kestrel.Listen(address, uri.Port, Configure);
            else
                kestrel.ListenAnyIP(uri.Port, Configure);
        }
    }

    public static string[] SplitUrls(string urls) => urls.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The gate in front of everything else: an ops address answers <c>/health</c> and <c>/metrics</c> only; a main
    /// address wants the key for all but those two (<c>/metrics</c> decides for itself, see <see cref="MetricsEndpoint"/>).
    /// </summary>
    internal void UseGate(IApplicationBuilder app) => app.Use((http, next) =>
    {
        var operations = http.Request.Path == "/health" || http.Request.Path == MetricsEndpoint.Path;
        if (OnOpsAddress(http))
        {
            if (operations)
                return next(http);
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        return operations || _keyHash is null || Presents(http) ? next(http) : RefuseAsync(http);
    });

    private static Task RefuseAsync(HttpContext http)
    {
        var message = http.Request.Headers.Authorization.Count == 0
            ? "This host needs an API key: send it as 'Authorization: Bearer KEY'."
            : "The API key is not the one this host was given.";
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return http.Response.WriteAsJsonAsync(
            new ErrorResponse(new ErrorBody(message, "invalid_request_error", null, "invalid_api_key")), OpenAiJson.Options, http.RequestAborted);
    }
}
