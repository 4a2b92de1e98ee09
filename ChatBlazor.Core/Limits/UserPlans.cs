using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Limits;

/// <summary>A user's plan: the one named on their account, else the default.</summary>
public sealed class UserPlans(IDbContextFactory<AppDbContext> dbFactory, PlanCatalog catalog)
{
    public async Task<Plan> ForUserAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return catalog.For(await db.Users.Where(u => u.Id == userId).Select(u => u.Plan).SingleOrDefaultAsync(ct));
    }
}
