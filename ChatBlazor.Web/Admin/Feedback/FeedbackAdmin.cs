using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Feedback;

namespace ChatBlazor.Web.Admin.Feedback;

/// <summary>The feedback section of the console: its services and the preference-data download.</summary>
public static class FeedbackAdmin
{
    public static void AddFeedbackAdmin(this WebApplicationBuilder builder) => builder.Services.AddFeedback();

    public static void MapFeedback(this RouteGroupBuilder admin)
    {
        admin.MapGet("/feedback/preferences.jsonl", ExportAsync).WithName("AdminPreferencesJsonl").WithTags("Admin");
    }

    /// <summary>Reply dates as UTC days, <paramref name="to"/> included; the whole history when left out.</summary>
    public static FeedbackFilter Filter(DateOnly? from, DateOnly? to, string? model, short? rating = null) => new(
        from is { } f ? new DateTimeOffset(f.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        to is { } t ? new DateTimeOffset(t.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        string.IsNullOrWhiteSpace(model) ? null : model.Trim(), rating);

    /// <summary>GET /admin/api/feedback/preferences.jsonl?from=yyyy-MM-dd&amp;to=…&amp;model=… — one preference pair a line.</summary>
    private static async Task<IResult> ExportAsync(DateOnly? from, DateOnly? to, string? model, HttpContext http, FeedbackBrowser feedback,
        AuditLog audit, CancellationToken ct)
    {
        var filter = Filter(from, to, model);
        // Logged before the first byte leaves: conversations are personal data, and a download cut short still read some.
        await audit.WriteAsync(http.User.Actor(), AuditActions.Export, "feedback/preferences.jsonl",
            $"{from?.ToString("yyyy-MM-dd") ?? "start"}..{to?.ToString("yyyy-MM-dd") ?? "now"}" + (filter.Model is null ? "" : $" model={filter.Model}"), ct);
        return Results.Stream(body => feedback.ExportPreferencesAsync(filter, body, ct), "application/x-ndjson; charset=utf-8",
            $"preferences-{DateTime.UtcNow:yyyyMMdd-HHmmss}.jsonl");
    }
}
