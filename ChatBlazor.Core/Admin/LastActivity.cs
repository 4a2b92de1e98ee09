using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Usage;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Admin;

/// <summary>
/// Notes when a user was last active (<c>AppUser.LastActiveAt</c>) as their chat reply or API call settles. One
/// conditional UPDATE that changes nothing while the stored time is under <see cref="Resolution"/> old, so a busy
/// user costs at most one row write per five minutes; titles are the platform's work and do not count.
/// </summary>
public sealed class LastActivity(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock) : IUsageMeter
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMinutes(5);

    public async Task RecordAsync(UsageRecord usage, CancellationToken ct)
    {
        if (usage.Source == UsageSource.Title)
            return;
        var now = clock.GetUtcNow();
        var before = now - Resolution;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Users.Where(u => u.Id == usage.UserId && (u.LastActiveAt == null || u.LastActiveAt < before))
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LastActiveAt, now), ct);
    }
}
