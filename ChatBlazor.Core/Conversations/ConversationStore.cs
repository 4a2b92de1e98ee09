using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Conversations;

public sealed record ConversationSummary(Guid Id, string Title, bool Pinned, DateTimeOffset UpdatedAt);

/// <summary>
/// Conversations in PostgreSQL, one short unit of work per call (safe from long-lived circuits). Every method that
/// takes a user id touches only that user's conversations: another user's id reads as "not found".
/// The methods without a user id are for the generation job, which works on a reply it created.
/// </summary>
public sealed class ConversationStore(IDbContextFactory<AppDbContext> dbFactory)
{
    public const int MaxMessageLength = 100_000;
    private const int TitleWords = 8;

    public async Task<Conversation> CreateAsync(string userId, string model, ConversationSettings? settings = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = new Conversation { UserId = userId, Model = model, Settings = settings ?? new() };
        db.Conversations.Add(conversation);
        await db.SaveChangesAsync(ct);
        return conversation;
    }

    /// <summary>Pinned first, then latest activity first; <paramref name="search"/> matches titles and message text.</summary>
    public async Task<IReadOnlyList<ConversationSummary>> ListAsync(string userId, string? search = null, int take = 100, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Conversations.AsNoTracking().Where(c => c.UserId == userId);
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = "%" + EscapeLike(search.Trim()) + "%";
            query = query.Where(c => EF.Functions.ILike(c.Title, pattern, "\\")
                || c.Messages.Any(m => EF.Functions.ILike(m.Content, pattern, "\\")));
        }
        return await query.OrderByDescending(c => c.Pinned).ThenByDescending(c => c.UpdatedAt).Take(take)
            .Select(c => new ConversationSummary(c.Id, c.Title, c.Pinned, c.UpdatedAt)).ToListAsync(ct);
    }

    /// <summary>The conversation with all its messages (every branch), or null when it is not this user's.</summary>
    public async Task<Conversation?> GetAsync(string userId, Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Conversations.AsNoTracking().Include(c => c.Messages.OrderBy(m => m.CreatedAt))
            .SingleOrDefaultAsync(c => c.Id == id && c.UserId == userId, ct);
    }

    /// <summary>
    /// Stores the user's message under <paramref name="parentId"/> (null: the first turn, or an edit of it) and makes
    /// it the visible branch; committed before this returns, so nothing that follows can lose it.
    /// </summary>
    public async Task<Message?> AddUserMessageAsync(string userId, Guid conversationId, Guid? parentId, string content, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        if (content.Length > MaxMessageLength)
            throw new ArgumentException($"A message can be at most {MaxMessageLength:N0} characters; this one has {content.Length:N0}.", nameof(content));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == conversationId && c.UserId == userId, ct);
        if (conversation is null)
            return null;
        if (parentId is { } parent && !await db.Messages.AnyAsync(m => m.Id == parent && m.ConversationId == conversationId, ct))
            throw new ArgumentException("The message to reply under is not part of this conversation.", nameof(parentId));

        var message = new Message { ConversationId = conversationId, ParentId = parentId, Role = MessageRole.User, Content = content };
        db.Messages.Add(message);
        conversation.CurrentLeafId = message.Id;
        conversation.UpdatedAt = message.CreatedAt;
        if (conversation.Title.Length == 0)
            conversation.Title = FallbackTitle(content);
        await db.SaveChangesAsync(ct);
        return message;
    }

    /// <summary>An empty reply in status Streaming under <paramref name="parentId"/>, made the visible branch.</summary>
    public async Task<Message?> StartReplyAsync(string userId, Guid conversationId, Guid parentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == conversationId && c.UserId == userId, ct);
        if (conversation is null)
            return null;
        if (!await db.Messages.AnyAsync(m => m.Id == parentId && m.ConversationId == conversationId && m.Role == MessageRole.User, ct))
            throw new ArgumentException("A reply answers a user message of this conversation.", nameof(parentId));

        var reply = new Message
        {
            ConversationId = conversationId, ParentId = parentId, Role = MessageRole.Assistant, Status = MessageStatus.Streaming,
            Model = conversation.Model, Settings = Copy(conversation.Settings), SavedAt = DateTimeOffset.UtcNow,
        };
        db.Messages.Add(reply);
        conversation.CurrentLeafId = reply.Id;
        conversation.UpdatedAt = reply.CreatedAt;
        await db.SaveChangesAsync(ct);
        return reply;
    }

    /// <summary>The text so far of a reply that is still streaming, and its heartbeat; a finished reply is left as it is.</summary>
    public async Task SaveProgressAsync(Guid replyId, string content, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        await db.Messages.Where(m => m.Id == replyId && m.Status == MessageStatus.Streaming)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, content).SetProperty(m => m.SavedAt, now), ct);
    }

    /// <summary>
    /// Replies still marked streaming whose job has not saved them for <paramref name="silence"/> (the server that ran
    /// them stopped) become failed, keeping their text, so the user sees what happened and can regenerate.
    /// </summary>
    public async Task<int> FailAbandonedRepliesAsync(TimeSpan silence, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var before = DateTimeOffset.UtcNow - silence;
        return await db.Messages.Where(m => m.Status == MessageStatus.Streaming && (m.SavedAt ?? m.CreatedAt) < before)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatus.Failed)
                .SetProperty(m => m.FinishReason, "interrupted")
                .SetProperty(m => m.Error, InterruptedError), ct);
    }

    public const string InterruptedError = "This reply was interrupted because the server stopped. Regenerate it to get a full answer.";

    /// <summary>
    /// The first user message of the conversation <paramref name="replyId"/> belongs to, when that reply is the
    /// conversation's first and the title still comes from the first words; otherwise null.
    /// </summary>
    public async Task<(Guid ConversationId, string FirstMessage)?> TitleToGenerateAsync(Guid replyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversationId = await db.Messages.Where(m => m.Id == replyId).Select(m => (Guid?)m.ConversationId).SingleOrDefaultAsync(ct);
        if (conversationId is not { } id
            || !await db.Conversations.AnyAsync(c => c.Id == id && c.TitleSource == TitleSource.FirstWords, ct)
            || await db.Messages.CountAsync(m => m.ConversationId == id && m.Role == MessageRole.Assistant, ct) != 1)
            return null;
        var first = await db.Messages.Where(m => m.ConversationId == id && m.Role == MessageRole.User)
            .OrderBy(m => m.CreatedAt).Select(m => m.Content).FirstAsync(ct);
        return (id, first);
    }

    /// <summary>The model's title, unless the user renamed the chat meanwhile. True when it was stored.</summary>
    public async Task<bool> SetModelTitleAsync(Guid conversationId, string title, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        title = title.Length > ConversationConfiguration.MaxTitleLength ? title[..ConversationConfiguration.MaxTitleLength] : title;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Conversations.Where(c => c.Id == conversationId && c.TitleSource == TitleSource.FirstWords)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Title, title).SetProperty(c => c.TitleSource, TitleSource.Model), ct) == 1;
    }

    /// <summary>The reply's final text, status and figures. Not cancellable: a stopped reply must still be saved.</summary>
    public async Task FinishReplyAsync(Guid replyId, string content, ReplyOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await using var db = await dbFactory.CreateDbContextAsync();
        var reply = await db.Messages.SingleAsync(m => m.Id == replyId);
        reply.Content = content;
        reply.Status = outcome.Status;
        reply.FinishReason = outcome.FinishReason;
        reply.Error = outcome.Error;
        reply.PromptTokens = outcome.PromptTokens;
        reply.CompletionTokens = outcome.CompletionTokens;
        reply.TimeToFirstTokenMs = outcome.TimeToFirstTokenMs;
        reply.TokensPerSecond = outcome.TokensPerSecond;
        await db.SaveChangesAsync();
    }

    public async Task<bool> RenameAsync(string userId, Guid id, string title, CancellationToken ct = default)
    {
        title = title.Trim();
        ArgumentException.ThrowIfNullOrEmpty(title);
        if (title.Length > ConversationConfiguration.MaxTitleLength)
            title = title[..ConversationConfiguration.MaxTitleLength];
        return await UpdateAsync(userId, id, c => (c.Title, c.TitleSource) = (title, TitleSource.User), ct);
    }

    public Task<bool> SetPinnedAsync(string userId, Guid id, bool pinned, CancellationToken ct = default) =>
        UpdateAsync(userId, id, c => c.Pinned = pinned, ct);

    public Task<bool> SetSettingsAsync(string userId, Guid id, string model, ConversationSettings settings, CancellationToken ct = default) =>
        UpdateAsync(userId, id, c => (c.Model, c.Settings) = (model, Copy(settings)), ct);

    /// <summary>Shows the branch through <paramref name="leafId"/> (sibling navigation).</summary>
    public async Task<bool> SetCurrentLeafAsync(string userId, Guid id, Guid leafId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Messages.AnyAsync(m => m.Id == leafId && m.ConversationId == id && m.Conversation!.UserId == userId, ct))
            return false;
        return await db.Conversations.Where(c => c.Id == id && c.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.CurrentLeafId, leafId), ct) == 1;
    }

    public async Task<bool> DeleteAsync(string userId, Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Conversations.Where(c => c.Id == id && c.UserId == userId).ExecuteDeleteAsync(ct) == 1;
    }

    /// <summary>Thumbs up (+1), down (−1) or cleared (null) on a reply, with an optional comment.</summary>
    public async Task<bool> RateAsync(string userId, Guid messageId, short? rating, string? comment, CancellationToken ct = default)
    {
        if (rating is not (null or 1 or -1))
            throw new ArgumentOutOfRangeException(nameof(rating), rating, "A rating is +1, -1 or none.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.Where(m => m.Id == messageId && m.Role == MessageRole.Assistant && m.Conversation!.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Rating, rating).SetProperty(m => m.RatingComment, string.IsNullOrWhiteSpace(comment) ? null : comment.Trim()), ct) == 1;
    }

    /// <summary>The messages from the root to <paramref name="leafId"/>, in order: what the user sees and the model reads.</summary>
    public static IReadOnlyList<Message> PathTo(IReadOnlyList<Message> messages, Guid? leafId)
    {
        var byId = messages.ToDictionary(m => m.Id);
        var path = new List<Message>();
        for (var id = leafId; id is { } current && byId.TryGetValue(current, out var message); id = message.ParentId)
            path.Add(message);
        path.Reverse();
        return path;
    }

    /// <summary>The first words of the first message, until the model's title arrives.</summary>
    public static string FallbackTitle(string content)
    {
        var words = content.Split((char[]?)null, TitleWords + 1, StringSplitOptions.RemoveEmptyEntries);
        var title = string.Join(' ', words.Take(TitleWords)) + (words.Length > TitleWords ? "…" : "");
        return title.Length <= ConversationConfiguration.MaxTitleLength ? title : title[..(ConversationConfiguration.MaxTitleLength - 1)] + "…";
    }

    private async Task<bool> UpdateAsync(string userId, Guid id, Action<Conversation> change, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == id && c.UserId == userId, ct);
        if (conversation is null)
            return false;
        change(conversation);
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static ConversationSettings Copy(ConversationSettings s) =>
        new() { SystemPrompt = s.SystemPrompt, Temperature = s.Temperature, TopP = s.TopP, MaxTokens = s.MaxTokens, Stop = [.. s.Stop] };

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}

/// <summary>How a reply ended, with the figures the footer shows.</summary>
public sealed record ReplyOutcome(
    MessageStatus Status,
    string? FinishReason = null,
    string? Error = null,
    int? PromptTokens = null,
    int? CompletionTokens = null,
    int? TimeToFirstTokenMs = null,
    double? TokensPerSecond = null);
