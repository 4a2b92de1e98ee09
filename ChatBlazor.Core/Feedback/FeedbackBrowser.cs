using System.Text.Json;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Feedback;

/// <summary>Which ratings to list or export: reply dates (UTC, <see cref="To"/> exclusive), a model, thumbs up (+1) or down (−1).</summary>
public sealed record FeedbackFilter(DateTimeOffset? From = null, DateTimeOffset? To = null, string? Model = null, short? Rating = null);

/// <summary>A rated reply as the feedback page lists it.</summary>
public sealed record RatedReply(Guid MessageId, Guid ConversationId, DateTimeOffset CreatedAt, string? Model, short Rating, string? Comment,
    string Excerpt, string? UserEmail);

/// <summary>A conversation as the console shows it, read-only: every message of its tree and whose it is.</summary>
public sealed record ConversationRecord(Conversation Conversation, string? OwnerEmail, IReadOnlyList<Message> Messages, bool Truncated);

/// <summary>
/// The users' thumbs on replies, for admins: a filtered, paged list, the conversation behind a rating, and the
/// preference-data export (<see cref="PreferencePairs"/>). Reading conversations is audited by the caller.
/// </summary>
public sealed class FeedbackBrowser(IDbContextFactory<AppDbContext> dbFactory)
{
    public const int ExcerptLength = 200;
    /// <summary>The most messages the read-only view loads: a tree beyond that is cut (and says so).</summary>
    public const int MaxConversationMessages = 2_000;
    /// <summary>The most lines one export writes; narrow the dates for more.</summary>
    public const int MaxExportPairs = 50_000;

    public async Task<(IReadOnlyList<RatedReply> Rows, int Total)> ListAsync(FeedbackFilter filter, int skip, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rated = Rated(db, filter);
        var total = await rated.CountAsync(ct);
        var rows = await rated.OrderByDescending(m => m.CreatedAt).ThenBy(m => m.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200))
            .Select(m => new RatedReply(m.Id, m.ConversationId, m.CreatedAt, m.Model, m.Rating!.Value, m.RatingComment,
                m.Content.Substring(0, ExcerptLength), m.Conversation!.User!.Email))
            .ToListAsync(ct);
        return (rows, total);
    }

    /// <summary>The models that have rated replies, for the filter.</summary>
    public async Task<IReadOnlyList<string>> ModelsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Messages.Where(m => m.Rating != null && m.Model != null).Select(m => m.Model!).Distinct().OrderBy(m => m).ToListAsync(ct);
    }

    /// <summary>Any user's conversation with its whole tree, oldest first; null if there is none with that id.</summary>
    public async Task<ConversationRecord?> ConversationAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var conversation = await db.Conversations.AsNoTracking().Include(c => c.User).SingleOrDefaultAsync(c => c.Id == id, ct);
        if (conversation is null)
            return null;
        var messages = await db.Messages.AsNoTracking().Where(m => m.ConversationId == id)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).Take(MaxConversationMessages + 1).ToListAsync(ct);
        var truncated = messages.Count > MaxConversationMessages;
        if (truncated)
            messages.RemoveAt(messages.Count - 1);
        return new ConversationRecord(conversation, conversation.User?.Email, messages, truncated);
    }

    /// <summary>
    /// Writes the preference pairs of the filter's thumbs-up replies as JSON lines (TRL's conversational preference
    /// format: prompt, chosen and rejected as lists of messages, plus ids to trace a line back); returns the lines written.
    /// </summary>
    public async Task<int> ExportPreferencesAsync(FeedbackFilter filter, Stream output, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Only conversations where a thumbs-up reply in range has a sibling can yield a pair.
        var thumbsUp = Rated(db, filter with { Rating = 1 });
        var conversationIds = await thumbsUp
            .Where(m => db.Messages.Any(s => s.ParentId == m.ParentId && s.Id != m.Id && s.Role == MessageRole.Assistant))
            .Select(m => m.ConversationId).Distinct().OrderBy(id => id).ToListAsync(ct);
        var written = 0;
        await using var writer = new StreamWriter(output, leaveOpen: true);
        foreach (var batch in conversationIds.Chunk(100))
        {
            var messages = await db.Messages.AsNoTracking().Where(m => batch.Contains(m.ConversationId)).ToListAsync(ct);
            foreach (var conversation in messages.GroupBy(m => m.ConversationId).OrderBy(g => g.Key))
                foreach (var pair in PreferencePairs.From(conversation.Key, conversation.ToList()).Where(p => InRange(p.Chosen, filter)))
                {
                    if (written == MaxExportPairs)
                        return written;
                    await writer.WriteLineAsync(JsonSerializer.Serialize(Line.Of(pair), LineJson));
                    written++;
                }
            await writer.FlushAsync(ct);
        }
        return written;
    }

    private static bool InRange(Message chosen, FeedbackFilter filter) =>
        (filter.From is not { } from || chosen.CreatedAt >= from) && (filter.To is not { } to || chosen.CreatedAt < to)
        && (string.IsNullOrWhiteSpace(filter.Model) || chosen.Model == filter.Model);

    private static IQueryable<Message> Rated(AppDbContext db, FeedbackFilter filter)
    {
        var rows = db.Messages.AsNoTracking().Where(m => m.Role == MessageRole.Assistant && m.Rating != null);
        if (filter.From is { } from)
            rows = rows.Where(m => m.CreatedAt >= from);
        if (filter.To is { } to)
            rows = rows.Where(m => m.CreatedAt < to);
        if (!string.IsNullOrWhiteSpace(filter.Model))
            rows = rows.Where(m => m.Model == filter.Model);
        if (filter.Rating is { } rating)
            rows = rows.Where(m => m.Rating == rating);
        return rows;
    }

    private static readonly JsonSerializerOptions LineJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private sealed record Line(
        IReadOnlyList<PreferenceMessage> Prompt, IReadOnlyList<PreferenceMessage> Chosen, IReadOnlyList<PreferenceMessage> Rejected,
        Guid ConversationId, Guid ChosenId, Guid RejectedId, string? ChosenModel, string? RejectedModel)
    {
        public static Line Of(PreferencePair pair) => new(pair.Prompt,
            [new("assistant", pair.Chosen.Content)], [new("assistant", pair.Rejected.Content)],
            pair.ConversationId, pair.Chosen.Id, pair.Rejected.Id, pair.Chosen.Model, pair.Rejected.Model);
    }
}

/// <summary>The feedback page lists rated replies newest first: a partial index holds only those (few of all messages).</summary>
internal sealed class RatedMessageIndexConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> message) =>
        message.HasIndex(m => m.CreatedAt, "IX_Messages_Rated_CreatedAt").HasFilter("\"Rating\" IS NOT NULL");
}
