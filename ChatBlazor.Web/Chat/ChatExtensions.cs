using System.Collections.Frozen;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Replies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Chat;

public static class ChatExtensions
{
    /// <summary>
    /// What chat and API share: plans and limits, the completion pipeline, conversations and reply jobs (this
    /// instance's worker included). The host waits at shutdown for running replies to finish or be handed over.
    /// </summary>
    public static void AddChat(this WebApplicationBuilder builder)
    {
        builder.Services.AddLimits(builder.Configuration);
        builder.Services.AddCompletions();
        builder.Services.AddReplies();
        var grace = builder.Configuration.GetSection(ReplyOptions.Section).Get<ReplyOptions>()?.ShutdownGrace ?? new ReplyOptions().ShutdownGrace;
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = grace + TimeSpan.FromSeconds(15));
        builder.Services.AddOptions<ChatImageOptions>().BindConfiguration(ChatImageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
    }

    /// <summary>False for a worker-only instance (Replies:Role = Worker): it answers health checks and runs replies, nothing else.</summary>
    public static bool ServesUsers(this WebApplication app) =>
        app.Services.GetRequiredService<IOptions<ReplyOptions>>().Value.Role != InstanceRole.Worker;

    /// <summary>Export of the visible branch: <c>/chat/{id}/export.md</c> and <c>/chat/{id}/export.json</c>.</summary>
    public static void MapChat(this WebApplication app)
    {
        // Replies render Markdown through a static call, so the image allow-list is handed to it once, here.
        MarkdownRenderer.ImageHosts = app.Services.GetRequiredService<IOptions<ChatImageOptions>>().Value.ImageHosts.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        var export = app.MapGroup("/chat/{id:guid}").RequireAuthorization();
        export.MapGet("/export.md", async Task<Results<FileContentHttpResult, NotFound>> (Guid id, ClaimsPrincipal user, ConversationStore store) =>
        {
            if (await VisiblePathAsync(store, user, id) is not { } found)
                return TypedResults.NotFound();
            var (conversation, path) = found;
            var markdown = new StringBuilder($"# {conversation.Title}\n\n");
            if (!string.IsNullOrWhiteSpace(conversation.Settings.SystemPrompt))
                markdown.Append($"**System:** {conversation.Settings.SystemPrompt}\n\n");
            foreach (var message in path)
                markdown.Append($"**{(message.Role == MessageRole.User ? "You" : message.Model ?? "Assistant")}:**\n\n{message.Content}\n\n");
            return TypedResults.File(Encoding.UTF8.GetBytes(markdown.ToString()), "text/markdown; charset=utf-8", FileName(conversation, "md"));
        });
        export.MapGet("/export.json", async Task<Results<FileContentHttpResult, NotFound>> (Guid id, ClaimsPrincipal user, ConversationStore store) =>
        {
            if (await VisiblePathAsync(store, user, id) is not { } found)
                return TypedResults.NotFound();
            var (conversation, path) = found;
            var json = JsonSerializer.SerializeToUtf8Bytes(new
            {
                id = conversation.Id, title = conversation.Title, model = conversation.Model, created_at = conversation.CreatedAt,
                settings = conversation.Settings,
                messages = path.Select(m => new
                {
                    id = m.Id, role = m.Role == MessageRole.User ? "user" : "assistant", content = m.Content, status = m.Status.ToString().ToLowerInvariant(),
                    model = m.Model, created_at = m.CreatedAt, prompt_tokens = m.PromptTokens, completion_tokens = m.CompletionTokens,
                }),
            }, new JsonSerializerOptions { WriteIndented = true });
            return TypedResults.File(json, "application/json", FileName(conversation, "json"));
        });
    }

    private static async Task<(Conversation, IReadOnlyList<Message>)?> VisiblePathAsync(ConversationStore store, ClaimsPrincipal user, Guid id) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId ? await store.PathAsync(userId, id) : null;

    private static string FileName(Conversation conversation, string extension)
    {
        var safe = new string(conversation.Title.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return $"{(safe.Length == 0 ? "conversation" : safe[..Math.Min(safe.Length, 60)])}.{extension}";
    }
}
