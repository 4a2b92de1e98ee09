using System.Collections.Frozen;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using ChatBlazor.Core.Conversations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Chat;

public static class ChatExtensions
{
    public static void AddChat(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ConversationStore>();
        builder.Services.AddSingleton<ReplyJobs>();
        builder.Services.AddHostedService<AbandonedReplies>();
        builder.Services.AddOptions<ChatImageOptions>().BindConfiguration(ChatImageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
    }

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

    private static async Task<(Conversation, IReadOnlyList<Message>)?> VisiblePathAsync(ConversationStore store, ClaimsPrincipal user, Guid id)
    {
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null || await store.GetAsync(userId, id) is not { } conversation)
            return null;
        return (conversation, ConversationStore.PathTo(conversation.Messages, conversation.CurrentLeafId));
    }

    private static string FileName(Conversation conversation, string extension)
    {
        var safe = new string(conversation.Title.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return $"{(safe.Length == 0 ? "conversation" : safe[..Math.Min(safe.Length, 60)])}.{extension}";
    }
}
