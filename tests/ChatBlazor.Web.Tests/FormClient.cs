using System.Net;
using System.Text.RegularExpressions;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Testing;
using ChatBlazor.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>A client signed in, through the log-in form, as a new user with <paramref name="role"/> (none: an ordinary user).</summary>
    public static async Task<HttpClient> SignedInAsync(AppFactory app, string? role, string password = "Str0ng!pass")
    {
        var email = $"{role ?? "user"}-{Guid.NewGuid():N}@example.com".ToLowerInvariant();
        await using (var scope = app.Services.CreateAsyncScope())
            await DatabaseSetup.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, password, role,
                app.Services.GetRequiredService<PlanCatalog>().Default.Name);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var login = await SubmitAsync(client, "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return client;
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)"\s*/?>""")]
    private static partial Regex HiddenInput();
}
