using System.Net;
using System.Text.RegularExpressions;

namespace ChatBlazor.Web.Tests;

/// <summary>Submits the app's static server-rendered forms the way a browser without JavaScript would.</summary>
internal static partial class FormClient
{
    /// <summary>
    /// GETs the page, keeps the form's hidden fields (antiforgery token, handler name), adds ours, and POSTs them
    /// to the page itself or to <paramref name="action"/>.
    /// </summary>
    public static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string path, Dictionary<string, string> fields, string? action = null)
    {
        var page = await client.GetStringAsync(path);
        var form = new Dictionary<string, string>();
        foreach (Match hidden in HiddenInput().Matches(page))
            form.TryAdd(WebUtility.HtmlDecode(hidden.Groups["name"].Value), WebUtility.HtmlDecode(hidden.Groups["value"].Value));
        foreach (var (name, value) in fields)
            form[name] = value;
        return await client.PostAsync(action ?? path, new FormUrlEncodedContent(form));
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)"\s*/?>""")]
    private static partial Regex HiddenInput();
}
