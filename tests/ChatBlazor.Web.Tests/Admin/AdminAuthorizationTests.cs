using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>
/// Anonymous, user and admin against every admin page, every endpoint under /admin (Hangfire's dashboard and its
/// API included), found by reflection and from the routing table rather than listed by hand: a page or endpoint
/// added later without the Admin policy fails here.
/// </summary>
public partial class AdminAuthorizationTests(AdminAuthorizationTests.Factory app) : IClassFixture<AdminAuthorizationTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public HttpClient User { get; private set; } = default!;
        public HttpClient Admin { get; private set; } = default!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            User = await SignedInAsync(Roles.User);
            Admin = await SignedInAsync(Roles.Admin);
        }

        private Task<HttpClient> SignedInAsync(string role) => FormClient.SignedInAsync(this, role);

        public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
    }

    /// <summary>Every route of a Blazor page under /admin, with sample values for its parameters.</summary>
    public static TheoryData<string> Pages() => [.. PagePaths()];

    private static IEnumerable<string> PagePaths() =>
        typeof(Program).Assembly.GetTypes()
            .SelectMany(type => type.GetCustomAttributes<RouteAttribute>())
            .Select(route => route.Template)
            .Where(template => template.StartsWith("/admin", StringComparison.Ordinal))
            .Select(Sample)
            .Distinct()
            .Order();

    /// <summary>Hangfire's dashboard: its pages, and the API its scripts call.</summary>
    public static TheoryData<string, string> Dashboard() => new()
    {
        { "GET", "/admin/jobs" }, { "GET", "/admin/jobs/recurring" }, { "GET", "/admin/jobs/jobs/failed" }, { "GET", "/admin/jobs/servers" },
        { "POST", "/admin/jobs/stats" }, { "POST", "/admin/jobs/recurring/trigger" }, { "POST", "/admin/jobs/jobs/failed/requeue" },
    };

    [Fact]
    public void EveryConsoleSectionIsAPageOrTheDashboard()
    {
        var pages = PagePaths().ToHashSet();
        foreach (var section in new[] { "/admin", "/admin/users", "/admin/models", "/admin/usage", "/admin/feedback", "/admin/moderation", "/admin/health", "/admin/audit" })
            Assert.Contains(section, pages);
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task PagesAreForAdminsOnly(string path)
    {
        await AssertAdminOnlyAsync(HttpMethod.Get, path);
    }

    [Theory]
    [MemberData(nameof(Dashboard))]
    public async Task TheJobsDashboardAndItsApiAreForAdminsOnly(string method, string path)
    {
        // Admins' POSTs need the dashboard's antiforgery token, which only its own pages carry: checked as GETs.
        await AssertAdminOnlyAsync(new HttpMethod(method), path, adminToo: method == "GET");
    }

    [Fact]
    public async Task EveryEndpointUnderAdminIsForAdminsOnly()
    {
        var endpoints = app.Services.GetServices<EndpointDataSource>().SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("admin", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var path = Sample("/" + endpoint.RoutePattern.RawText!.TrimStart('/'));
            foreach (var method in methods)
                await AssertAdminOnlyAsync(new HttpMethod(method), path, adminToo: false);
        }
    }

    private async Task AssertAdminOnlyAsync(HttpMethod method, string path, bool adminToo = true)
    {
        var anonymous = await app.Anonymous().SendAsync(new HttpRequestMessage(method, path));
        Assert.True(Refused(anonymous, "/Account/Login", HttpStatusCode.Unauthorized), $"anonymous {method} {path}: {Describe(anonymous)}");

        var user = await app.User.SendAsync(new HttpRequestMessage(method, path));
        Assert.True(Refused(user, "/Account/AccessDenied", HttpStatusCode.Forbidden), $"user {method} {path}: {Describe(user)}");

        if (!adminToo)
            return;
        var admin = await app.Admin.SendAsync(new HttpRequestMessage(method, path));
        Assert.False(Refused(admin, "/Account/", HttpStatusCode.Unauthorized) || admin.StatusCode == HttpStatusCode.Forbidden, $"admin {method} {path}: {Describe(admin)}");
        Assert.True(admin.IsSuccessStatusCode, $"admin {method} {path}: {Describe(admin)}");
    }

    private static bool Refused(HttpResponseMessage response, string redirectPrefix, HttpStatusCode status) =>
        response.StatusCode == status
        || response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.Contains(redirectPrefix, StringComparison.Ordinal) == true;

    private static string Describe(HttpResponseMessage response) => $"{(int)response.StatusCode} {response.Headers.Location}";

    /// <summary>A concrete path for a route template: a new guid for {x:guid}, "sample" for the rest; catch-alls empty.</summary>
    private static string Sample(string template) =>
        RouteParameter().Replace(template, match => match.Value.Contains("**") || match.Value.Contains("*") ? ""
            : match.Value.Contains(":guid") ? Guid.NewGuid().ToString() : match.Value.Contains(":int") || match.Value.Contains(":long") ? "1" : "sample").TrimEnd('/');

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
