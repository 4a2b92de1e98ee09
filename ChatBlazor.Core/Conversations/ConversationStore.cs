using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Conversations;

public sealed record ConversationSummary(Guid Id, string Title, bool Pinned, DateTimeOffset UpdatedAt);

/// <summary>A conversation as the chat opens it: its settings and the visible part of its tree.</summary>
public sealed record ConversationView(Conversation Conversation, ReplyTree Tree);

/// <summary>How a reply ended, with the figures the footer shows.</summary>
public sealed record ReplyOutcome(
    CompletionStatus Status,
    string? Error = null,
    int? PromptTokens = null,
    int? CompletionTokens = null,
    int? TimeToFirstTokenMs = null,
    double? TokensPerSecond = null,
    string? Model = null);

/// <summary>What a run of a reply's job found when it wrote to the reply.</summary>
public enum ReplyWrite
{
    Written,
    /// <summary>A later run of the job owns the reply now (this one stalled and was taken over), or it has ended.</summary>
    TakenOver,
    /// <summary>The reply no longer exists: its conversation was deleted.</summary>
    Gone,
}

/// <summary>A run of a reply's job that may write it: its attempt, and the text earlier runs saved.</summary>
public sealed record ReplyClaim(int Attempt, string Content, int? CompletionTokens);

/// <summary>
/// Conversations in PostgreSQL, one short unit of work per call (safe from long-lived circuits). Every method that
/// takes a user id touches only that user's conversations: another user's id reads as "not found".
/// The methods without a user id are for reply workers, which work on replies the pipeline admitted.
/// </summary>
public sealed class ConversationStore(IDbContextFactory<AppDbContext> dbFactory)
{
    public const int MaxMessageLength = 100_000;
    /// <summary>Messages of the visible branch the chat loads at first; "Show earlier" loads more.</summary>
    public const int DefaultWindow = 50;
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
            var pattern = Like.Containing(search);
            query = query.Where(c => EF.Functions.ILike(c.Title, pattern, "\\")
                || c.Messages.Any(m => EF.Functions.ILike(m.Content, pattern, "\\")));
        }
        return await query.OrderByDescending(c => c.Pinned).ThenByDescending(c => c.UpdatedAt).Take(take)
            .Select(c => new ConversationSummary(c.Id, c.Title, c.Pinned, c.UpdatedAt)).ToListAsync(ct);
    }

    /// <summary>
    /// The conversation with the last <paramref name="window"/> messages of its visible branch and the versions of
    /// each of their turns; null when it is not this user's. Other branches are not loaded.
    /// </summary>
    public async Task<ConversationView?> OpenAsync(string userId, Guid id, int window = DefaultWindow, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id && c.UserId == userId, ct);
        if (conversation is null)
            return null;
        var path = await PathAsync(db, id, conversation.CurrentLeafId, window + 1, ct);
        var hasEarlier = path.Count > window;
        if (hasEarlier)
            path = path[1..];

        var parents = path.Where(m => m.ParentId is not null).Select(m => m.ParentId!.Value).Distinct().ToList();
        var withRoot = path.Count > 0 && path[0].ParentId is null;
        var versions = (await db.Messages.AsNoTracking()
                .Where(m => m.ConversationId == id && ((m.ParentId != null && parents.Contains(m.ParentId.Value)) || (withRoot && m.ParentId == null)))
                .OrderBy(m => m.CreatedAt).Select(m => new { m.Id, m.ParentId }).ToListAsync(ct))
            .GroupBy(m => m.ParentId).ToDictionary(g => g.Key ?? Guid.Empty, g => (IReadOnlyList<Guid>)[.. g.Select(m => m.Id)]);
        var byMessage = path.ToDictionary(m => m.Id, m => versions.GetValueOrDefault(m.ParentId ?? Guid.Empty) ?? [m.Id]);
        return new ConversationView(conversation, new ReplyTree(path, byMessage, hasEarlier));
    }

    /// <summary>
    /// The whole branch from the root to <paramref name="leafId"/> (the visible one when null), oldest first: what the
    /// model reads and an export contains. Null when the conversation is not this user's.
    /// </summary>
    public async Task<(Conversation Conversation, IReadOnlyList<Message> Path)?> PathAsync(string userId, Guid id, Guid? leafId = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id && c.UserId == userId, ct);
        if (conversation is null)
            return null;
        return (conversation, await PathAsync(db, id, leafId ?? conversation.CurrentLeafId, int.MaxValue, ct));
    }

    /// <summary>Up to <paramref name="limit"/> messages ending at <paramref name="leafId"/>, walking parents in SQL.</summary>
    private static async Task<List<Message>> PathAsync(AppDbContext db, Guid conversationId, Guid? leafId, int limit, CancellationToken ct)
    {
        if (leafId is not { } leaf)
            return [];
        var ids = await db.Database.SqlQuery<Guid>($"""
            WITH RECURSIVE path AS (
                SELECT m."Id", m."ParentId", 1 AS depth FROM "Messages" AS m WHERE m."Id" = {leaf} AND m."ConversationId" = {conversationId}
                UNION ALL
                SELECT p."Id", p."ParentId", path.depth + 1 FROM "Messages" AS p JOIN path ON p."Id" = path."ParentId" WHERE path.depth < {limit}
            )
            SELECT "Id" AS "Value" FROM path
            """).ToListAsync(ct);
        var messages = await db.Messages.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        var path = new List<Message>(ids.Count);
        for (var i = ids.Count - 1; i >= 0; i--) // the query walked from the leaf up
            if (messages.TryGetValue(ids[i], out var message))
                path.Add(message);
        return path;
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

    /// <summary>
    /// Replaces a stored user message by its redacted text (moderation stores redacted messages when so configured),
    /// and a title made of its first words by the redacted text's. False when the message is not a user message.
    /// </summary>
    public async Task<bool> RedactUserMessageAsync(Guid messageId, string redacted, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(redacted);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var message = await db.Messages.Include(m => m.Conversation).SingleOrDefaultAsync(m => m.Id == messageId && m.Role == MessageRole.User, ct);
        if (message is null)
            return false;
        if (message.Conversation!.TitleSource == TitleSource.FirstWords && message.Conversation.Title == FallbackTitle(message.Content))
            message.Conversation.Title = FallbackTitle(redacted);
        message.Content = redacted;
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>An empty reply <paramref name="replyId"/> waiting for a worker (Queued) under <paramref name="parentId"/>, made the visible branch.</summary>
    public async Task<Message?> StartReplyAsync(string userId, Guid conversationId, Guid parentId, Guid replyId, string model, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == conversationId && c.UserId == userId, ct);
        if (conversation is null)
            return null;
        if (!await db.Messages.AnyAsync(m => m.Id == parentId && m.ConversationId == conversationId && m.Role == MessageRole.User, ct))
            throw new ArgumentException("A reply answers a user message of this conversation.", nameof(parentId));

        var reply = new Message
        {
            Id = replyId, ConversationId = conversationId, ParentId = parentId, Role = MessageRole.Assistant, Status = CompletionStatus.Queued,
            Model = model, Settings = Copy(conversation.Settings), SavedAt = DateTimeOffset.UtcNow,
        };
        db.Messages.Add(reply);
        conversation.CurrentLeafId = reply.Id;
        conversation.UpdatedAt = reply.CreatedAt;
        await db.SaveChangesAsync(ct);
        return reply;
    }

    /// <summary>A reply of one of the user's conversations, as stored; null when it is not theirs.</summary>
    public async Task<Message?> ReplyAsync(string userId, Guid replyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == replyId && m.Role == MessageRole.Assistant && m.Conversation!.UserId == userId, ct);
    }

    /// <summary>
    /// Makes a new run of the reply's job the one that may write it (Streaming, attempt + 1) and returns what earlier
    /// runs saved; null when the reply has ended or is gone (<see cref="FindAsync"/> tells which).
    /// </summary>
    public async Task<ReplyClaim?> ClaimReplyAsync(Guid replyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var claimed = await db.Messages.Where(m => m.Id == replyId && (m.Status == CompletionStatus.Queued || m.Status == CompletionStatus.Streaming))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Attempt, m => m.Attempt + 1).SetProperty(m => m.Status, CompletionStatus.Streaming).SetProperty(m => m.SavedAt, now), ct);
        if (claimed == 0)
            return null;
        return await db.Messages.AsNoTracking().Where(m => m.Id == replyId)
            .Select(m => new ReplyClaim(m.Attempt, m.Content, m.CompletionTokens)).SingleAsync(ct);
    }

    /// <summary>A reply by id, for its worker; null when gone.</summary>
    public async Task<Message?> FindAsync(Guid replyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == replyId, ct);
    }

    /// <summary>The text so far of a reply this run of its job owns, with its heartbeat.</summary>
    public async Task<ReplyWrite> SaveProgressAsync(Guid replyId, int attempt, string content, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var saved = await db.Messages.Where(m => m.Id == replyId && m.Attempt == attempt && m.Status == CompletionStatus.Streaming)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, content).SetProperty(m => m.SavedAt, now), ct);
        return saved == 1 ? ReplyWrite.Written : await WhyNotAsync(db, replyId, ct);
    }

    /// <summary>Heartbeats for replies whose text has not changed (a long prompt): the sweep leaves them alone.</summary>
    public async Task HeartbeatAsync(IReadOnlyCollection<Guid> replyIds, CancellationToken ct = default)
    {
        if (replyIds.Count == 0)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        await db.Messages.Where(m => replyIds.Contains(m.Id) && m.Status == CompletionStatus.Streaming)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.SavedAt, now), ct);
    }

    /// <summary>The reply's final text, status and figures, if this run of its job still owns it. Not cancellable: a stopped reply must still be saved.</summary>
    public async Task<ReplyWrite> FinishReplyAsync(Guid replyId, int attempt, string content, ReplyOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (!outcome.Status.IsFinal())
            throw new ArgumentException("A finished reply has a final status.", nameof(outcome));
        await using var db = await dbFactory.CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var saved = await db.Messages.Where(m => m.Id == replyId && m.Attempt == attempt && m.Status == CompletionStatus.Streaming)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Content, content).SetProperty(m => m.Status, outcome.Status).SetProperty(m => m.Error, outcome.Error)
                .SetProperty(m => m.PromptTokens, outcome.PromptTokens).SetProperty(m => m.CompletionTokens, outcome.CompletionTokens)
                .SetProperty(m => m.TimeToFirstTokenMs, outcome.TimeToFirstTokenMs).SetProperty(m => m.TokensPerSecond, outcome.TokensPerSecond)
                .SetProperty(m => m.SavedAt, now)
                .SetProperty(m => m.Model, m => outcome.Model ?? m.Model)); // the model that answered, a fallback of "auto" included
        return saved == 1 ? ReplyWrite.Written : await WhyNotAsync(db, replyId, CancellationToken.None);
    }

    /// <summary>Removes a reply no job was ever made for, showing its question again (the job queue could not be reached).</summary>
    public async Task DeleteQueuedReplyAsync(Guid replyId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var reply = await db.Messages.SingleOrDefaultAsync(m => m.Id == replyId && m.Status == CompletionStatus.Queued);
        if (reply is null)
            return;
        await db.Conversations.Where(c => c.Id == reply.ConversationId && c.CurrentLeafId == replyId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.CurrentLeafId, reply.ParentId));
        db.Messages.Remove(reply);
        await db.SaveChangesAsync();
    }

    /// <summary>A reply stopped before any worker took it: it ends at once, empty. False when a worker has it (or it ended).</summary>
    public async Task<bool> StopQueuedAsync(Guid replyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.Where(m => m.Id == replyId && m.Status == CompletionStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, CompletionStatus.Stopped), ct) == 1;
    }

    /// <summary>Unfinished replies nobody has saved for <paramref name="silence"/>: their worker may be gone.</summary>
    public async Task<IReadOnlyList<Guid>> SilentRepliesAsync(TimeSpan silence, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var before = DateTimeOffset.UtcNow - silence;
        return await db.Messages.Where(m => (m.Status == CompletionStatus.Queued || m.Status == CompletionStatus.Streaming) && (m.SavedAt ?? m.CreatedAt) < before)
            .Select(m => m.Id).ToListAsync(ct);
    }

    /// <summary>
    /// A reply whose job is gone for good (not in the job queue, silent for <paramref name="silence"/>) becomes failed,
    /// keeping its text, so the user sees what happened and can regenerate. True when it was marked.
    /// </summary>
    public async Task<bool> FailInterruptedAsync(Guid replyId, TimeSpan silence, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var before = DateTimeOffset.UtcNow - silence;
        return await db.Messages.Where(m => m.Id == replyId && (m.Status == CompletionStatus.Queued || m.Status == CompletionStatus.Streaming) && (m.SavedAt ?? m.CreatedAt) < before)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, CompletionStatus.Failed).SetProperty(m => m.Error, InterruptedError), ct) == 1;
    }

    public const string InterruptedError = "This reply was interrupted because the server stopped. Regenerate it to get a full answer.";

    /// <summary>
    /// The first user message of the conversation <paramref name="replyId"/> belongs to, when that reply is the
    /// conversation's first and the title still comes from the first words; otherwise null.
    /// </summary>
    public async Task<(Guid ConversationId, string UserId, string FirstMessage)?> TitleToGenerateAsync(Guid replyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await db.Messages.Where(m => m.Id == replyId).Select(m => new { m.ConversationId, m.Conversation!.UserId }).SingleOrDefaultAsync(ct);
        if (found is null
            || !await db.Conversations.AnyAsync(c => c.Id == found.ConversationId && c.TitleSource == TitleSource.FirstWords, ct)
            || await db.Messages.CountAsync(m => m.ConversationId == found.ConversationId && m.Role == MessageRole.Assistant, ct) != 1)
            return null;
        var first = await db.Messages.Where(m => m.ConversationId == found.ConversationId && m.Role == MessageRole.User)
            .OrderBy(m => m.CreatedAt).Select(m => m.Content).FirstAsync(ct);
        return (found.ConversationId, found.UserId, first);
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

    /// <summary>
    /// Shows another version of a turn: the branch through <paramref name="versionId"/> down to its newest message
    /// (each step the latest child), as the user left it.
    /// </summary>
    public async Task<bool> ShowVersionAsync(string userId, Guid id, Guid versionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Conversations.AnyAsync(c => c.Id == id && c.UserId == userId, ct))
            return false;
        var leaf = await db.Database.SqlQuery<Guid>($"""
            WITH RECURSIVE down AS (
                SELECT m."Id", 0 AS depth FROM "Messages" AS m WHERE m."Id" = {versionId} AND m."ConversationId" = {id}
                UNION ALL
                SELECT child."Id", down.depth + 1 FROM down
                CROSS JOIN LATERAL (SELECT c."Id" FROM "Messages" AS c WHERE c."ParentId" = down."Id" ORDER BY c."CreatedAt" DESC LIMIT 1) AS child
            )
            SELECT "Id" AS "Value" FROM down ORDER BY depth DESC LIMIT 1
            """).ToListAsync(ct);
        if (leaf.Count == 0)
            return false;
        return await db.Conversations.Where(c => c.Id == id && c.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.CurrentLeafId, leaf[0]), ct) == 1;
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
        comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();
        if (comment?.Length > ConversationConfiguration.MaxRatingCommentLength)
            throw new ArgumentException($"A comment can be at most {ConversationConfiguration.MaxRatingCommentLength:N0} characters; this one has {comment.Length:N0}.", nameof(comment));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.Where(m => m.Id == messageId && m.Role == MessageRole.Assistant && m.Conversation!.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Rating, rating).SetProperty(m => m.RatingComment, comment), ct) == 1;
    }

    /// <summary>The first words of the first message, until the model's title arrives.</summary>
    public static string FallbackTitle(string content)
    {
        var words = content.Split((char[]?)null, TitleWords + 1, StringSplitOptions.RemoveEmptyEntries);
        var title = string.Join(' ', words.Take(TitleWords)) + (words.Length > TitleWords ? "…" : "");
        return title.Length <= ConversationConfiguration.MaxTitleLength ? title : title[..(ConversationConfiguration.MaxTitleLength - 1)] + "…";
    }

    private static async Task<ReplyWrite> WhyNotAsync(AppDbContext db, Guid replyId, CancellationToken ct) =>
        await db.Messages.AnyAsync(m => m.Id == replyId, ct) ? ReplyWrite.TakenOver : ReplyWrite.Gone;

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
}
