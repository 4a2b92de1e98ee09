using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Usage;

/// <summary>Writes usage rows. A failed write is logged, never thrown: the user already has their answer.</summary>
public sealed class UsageLedger(IDbContextFactory<AppDbContext> dbFactory, ILogger<UsageLedger> log)
{
    public async Task RecordAsync(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            db.UsageRecords.Add(record);
            await db.SaveChangesAsync();
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or TimeoutException or Npgsql.NpgsqlException)
        {
            log.LogError(e, "Usage of {PromptTokens}+{CompletionTokens} tokens on {Model} for user {UserId} was not recorded",
                record.PromptTokens, record.CompletionTokens, record.Model, record.UserId);
        }
    }

    public async Task<IReadOnlyList<UsageRecord>> ForUserAsync(string userId, DateTimeOffset since, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.UsageRecords.AsNoTracking().Where(u => u.UserId == userId && u.CreatedAt >= since).OrderBy(u => u.CreatedAt).ToListAsync(ct);
    }
}
