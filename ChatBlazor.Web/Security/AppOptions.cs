using ChatBlazor.Web.Account;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Security;

/// <summary>
/// Where users reach this server. Links that leave the request (account emails, links an operator command prints)
/// are built from <c>App:PublicUrl</c>, never from the request's Host header, which any client can set.
/// </summary>
public sealed class AppOptions
{
    public const string Section = "App";

    /// <summary>The absolute http(s) URL users open, e.g. https://chat.example.com. Required when Smtp:Host is set.</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>PublicUrl with a trailing slash, so relative paths resolve below any path it has; null when unset.</summary>
    public Uri? PublicBase() => IsAbsoluteHttpUrl(PublicUrl) ? new Uri(PublicUrl.EndsWith('/') ? PublicUrl : PublicUrl + "/") : null;

    internal static bool IsAbsoluteHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && uri.Query.Length == 0 && uri.Fragment.Length == 0;
}

/// <summary>App:PublicUrl is an absolute http(s) URL, and it is set whenever links are mailed (Smtp:Host set).</summary>
internal sealed class AppOptionsValidation(IOptions<SmtpOptions> smtp) : IValidateOptions<AppOptions>
{
    public ValidateOptionsResult Validate(string? name, AppOptions options)
    {
        if (options.PublicUrl.Length > 0 && !AppOptions.IsAbsoluteHttpUrl(options.PublicUrl))
            return ValidateOptionsResult.Fail($"App:PublicUrl must be an absolute http or https URL without query, such as https://chat.example.com (it is '{options.PublicUrl}').");
        if (options.PublicUrl.Length == 0 && smtp.Value.IsConfigured)
            return ValidateOptionsResult.Fail("App:PublicUrl is required when Smtp:Host is set: the links in account emails are built from it (e.g. https://chat.example.com).");
        return ValidateOptionsResult.Success;
    }
}
