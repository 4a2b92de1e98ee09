using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatBlazor.Core.Usage;

/// <summary>What became of a usage row: added, already there (the completion was settled before), or lost.</summary>
public enum Recorded { Added, AlreadySettled, Lost }

/// <summary>The usage rows: one per completion, however many times its ending is reported.</summary>
public sealed class UsageLedger(IDbContextFactory<AppDbContext> dbFactory, ILogger<UsageLedger> log)
{
    /// <summary>
    /// Adds the row unless one for its <see cref="UsageRecord.CompletionId"/> exists. Transient database failures are
    /// retried by the context's execution strategy (a restart mid-reply loses no row); what still fails is logged
    /// with the figures, never thrown: the user already has their answer.
    /// </summary>
    public async Task<Recorded> RecordOnceAsync(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            db.UsageRecords.Add(record);
            await db.SaveChangesAsync();
            return Recorded.Added;
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return Recorded.AlreadySettled; // a worker that took over a reply, or a repeated ending
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or TimeoutException or NpgsqlException)
        {
            log.LogError(e, "Usage of {PromptTokens}+{CompletionTokens} tokens on {Model} for user {UserId} was not recorded",
                record.PromptTokens, record.CompletionTokens, record.Model, record.UserId);
            return Recorded.Lost;
        }
    }

    public async Task<IReadOnlyList<UsageRecord>> ForUserAsync(string userId, DateTimeOffset since, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.UsageRecords.AsNoTracking().Where(u => u.UserId == userId && u.CreatedAt >= since).OrderBy(u => u.CreatedAt).ToListAsync(ct);
    }
}
