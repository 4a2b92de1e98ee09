using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Security;

/// <summary>Absolute links to this server for places outside a request: account emails and operator commands.</summary>
public sealed class PublicLinks(IOptions<AppOptions> options)
{
    /// <summary><paramref name="path"/> (relative, e.g. "Account/ConfirmEmail") below App:PublicUrl, with the query.</summary>
    public string To(string path, IEnumerable<KeyValuePair<string, string?>> query)
    {
        var publicBase = options.Value.PublicBase()
            ?? throw new InvalidOperationException("App:PublicUrl is not set, so no link can be built; set it to the URL users open (e.g. https://chat.example.com).");
        return QueryHelpers.AddQueryString(new Uri(publicBase, path).AbsoluteUri, query);
    }
}
