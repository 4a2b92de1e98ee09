using System.Security.Claims;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Identity;
using ChatBlazor.Web.Admin.Feedback;
using ChatBlazor.Web.Admin.Jobs;
using ChatBlazor.Web.Admin.Usage;
using ChatBlazor.Web.Admin.Models;
using ChatBlazor.Web.Admin.Moderation;

namespace ChatBlazor.Web.Admin;

public static class AdminExtensions
{
    /// <summary>
    /// The one policy of the console. Every admin page carries <c>[Authorize(Policy = Admin)]</c> and every admin
    /// endpoint sits in the group <see cref="MapAdmin"/> makes: the menu hiding a link protects nothing.
    /// </summary>
    public const string Policy = "Admin";

    public static void AddAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddUserAdmin();
        builder.AddJobs();
        builder.AddUsage();
        builder.AddFeedbackAdmin();
        builder.AddModelsAdmin();
        builder.AddModerationAdmin();
    }

    public static void MapAdmin(this WebApplication app)
    {
        app.MapJobsDashboard();
        var endpoints = app.MapGroup("/admin/api").RequireAuthorization(Policy);
        // Each section of the console maps its downloads and actions here.
        endpoints.MapUsage();
        endpoints.MapFeedback();
        endpoints.MapModeration();
    }

    /// <summary>The admin acting in this request or circuit, for the audit log.</summary>
    public static AuditActor Actor(this ClaimsPrincipal admin) => new(
        admin.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("An admin action needs a signed-in admin."),
        admin.FindFirstValue(ClaimTypes.Email) ?? admin.Identity?.Name ?? "?");
}
