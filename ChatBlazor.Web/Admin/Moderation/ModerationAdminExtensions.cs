namespace ChatBlazor.Web.Admin.Moderation;

public static class ModerationAdminExtensions
{
    /// <summary>The actions of <c>/admin/moderation</c>; the policy itself is wired by <c>AddModeration</c>.</summary>
    public static void AddModerationAdmin(this WebApplicationBuilder builder) => builder.Services.AddSingleton<ModerationAdmin>();

    public static void MapModeration(this RouteGroupBuilder admin) =>
        admin.MapGet("/moderation/flags", QueueAsync).WithName("AdminModerationQueue").WithTags("Admin");

    /// <summary>The open flags as JSON, newest first, for scripts that watch the queue.</summary>
    private static async Task<IResult> QueueAsync(ModerationAdmin moderation, int? skip, int? take, CancellationToken ct)
    {
        var (rows, total) = await moderation.QueueAsync(skip ?? 0, take ?? 50, ct);
        return TypedResults.Ok(new
        {
            total,
            flags = rows.Select(r => new
            {
                r.Flag.Id, r.Flag.UserId, user = r.UserEmail, r.Flag.ConversationId, r.Flag.MessageId, source = r.Flag.Source.ToString(),
                direction = r.Flag.Direction.ToString(), action = r.Flag.Action.ToString(), r.Flag.Category, r.Flag.Reason, r.Flag.Excerpt,
                findings = r.Flag.Findings.Select(f => new { f.Category, f.Rule, f.Score }), r.Flag.CreatedAt,
            }),
        });
    }
}
