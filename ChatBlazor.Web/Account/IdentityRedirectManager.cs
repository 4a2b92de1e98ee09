using Microsoft.AspNetCore.Components;

namespace ChatBlazor.Web.Account;

/// <summary>Redirects from static account pages, refusing anything that would leave this site.</summary>
internal sealed class IdentityRedirectManager(NavigationManager navigation)
{
    public void RedirectTo(string? uri)
    {
        uri ??= "";
        if (!Uri.IsWellFormedUriString(uri, UriKind.Relative) || uri.StartsWith("//", StringComparison.Ordinal))
            uri = navigation.ToBaseRelativePath(uri);
        navigation.NavigateTo(uri);
    }

    public void RedirectTo(string uri, Dictionary<string, object?> query) =>
        RedirectTo(navigation.GetUriWithQueryParameters(navigation.ToAbsoluteUri(uri).GetLeftPart(UriPartial.Path), query));
}
