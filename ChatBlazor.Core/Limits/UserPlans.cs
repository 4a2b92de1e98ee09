using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Limits;

/// <summary>
/// A user's plan: the one named on their account, else the default, with the admin's overrides of its limits for
/// this user (<c>AppUser.*Override</c>) in place of the plan's figures. Read from the database on every call, so a
/// change made on any instance applies to the user's next request.
/// </summary>
public sealed class UserPlans(IDbContextFactory<AppDbContext> dbFactory, PlanCatalog catalog)
{
    public async Task<Plan> ForUserAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.Where(u => u.Id == userId)
            .Select(u => new { u.Plan, u.RequestsPerMinuteOverride, u.TokensPerMinuteOverride, u.TokensPerDayOverride }).SingleOrDefaultAsync(ct);
        var plan = catalog.For(user?.Plan);
        return user is null ? plan : plan with
        {
            RequestsPerMinute = user.RequestsPerMinuteOverride ?? plan.RequestsPerMinute,
            TokensPerMinute = user.TokensPerMinuteOverride ?? plan.TokensPerMinute,
            TokensPerDay = user.TokensPerDayOverride ?? plan.TokensPerDay,
        };
    }
}
