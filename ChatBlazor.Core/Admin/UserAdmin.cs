using System.Text;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Admin;

public enum UserSort { SignedUp, LastActive, Usage }

/// <summary>A page of users: <paramref name="Search"/> matches email or name, anywhere in them.</summary>
public sealed record UserQuery(string? Search = null, UserSort Sort = UserSort.SignedUp, bool Descending = true, int Skip = 0, int Take = 50)
{
    public const int MaxTake = 200;
}

/// <summary>One user as the console's list shows them; tokens are this calendar month's (UTC), chat and API.</summary>
public sealed record UserRow(string Id, string Email, string Name, string Role, string Plan, DateTimeOffset CreatedAt,
    DateTimeOffset? LastActiveAt, long TokensThisMonth, bool Suspended);

public sealed record ModelUsage(string Model, long Tokens, int Requests);

/// <summary>Everything the console's page of one user shows.</summary>
public sealed record UserDetail(UserRow User, long? RequestsPerMinuteOverride, long? TokensPerMinuteOverride, long? TokensPerDayOverride,
    int RequestsThisMonth, IReadOnlyList<ModelUsage> UsageByModel, IReadOnlyList<ApiKeySummary> ApiKeys, int Conversations);

/// <summary>An admin action the rules refuse (the last admin, one's own account, an unknown plan); the message says why.</summary>
public sealed class UserAdminException(string message) : InvalidOperationException(message);

/// <summary>
/// Managing users, for the console and the operator commands alike: list and search, role, suspension, plan and quota
/// overrides, password reset, API keys, deletion. Each change is saved with its audit entry in one SaveChanges (one
/// transaction), so the log never disagrees with the data. Rules: the last admin can be neither demoted, suspended
/// nor deleted, and an admin cannot do any of those to their own account (they would lock themselves out).
/// Suspension, a role change, a password reset and deletion give the account a new security stamp and tell every
/// instance (<see cref="SignOutBroadcast"/>) to end the user's open pages at once.
/// </summary>
public sealed class UserAdmin(
    IDbContextFactory<AppDbContext> dbFactory, IServiceScopeFactory scopes, PlanCatalog plans, AuditLog audit, SignOutBroadcast signOuts, TimeProvider clock)
{
    public async Task<(IReadOnlyList<UserRow> Rows, int Total)> SearchAsync(UserQuery query, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = Like.Containing(query.Search);
            users = users.Where(u => EF.Functions.ILike(u.Email!, pattern, "\\") || EF.Functions.ILike(u.UserName!, pattern, "\\"));
        }
        var total = await users.CountAsync(ct);
        var rows = Project(db, users, await AdminRoleIdAsync(db, ct, required: false), MonthStart());
        rows = (query.Sort, query.Descending) switch
        {
            (UserSort.LastActive, true) => rows.OrderByDescending(r => r.LastActiveAt.HasValue).ThenByDescending(r => r.LastActiveAt).ThenBy(r => r.Id),
            (UserSort.LastActive, false) => rows.OrderBy(r => r.LastActiveAt.HasValue).ThenBy(r => r.LastActiveAt).ThenBy(r => r.Id),
            (UserSort.Usage, true) => rows.OrderByDescending(r => r.Tokens).ThenBy(r => r.Id),
            (UserSort.Usage, false) => rows.OrderBy(r => r.Tokens).ThenBy(r => r.Id),
            (_, true) => rows.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id),
            (_, false) => rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id),
        };
        var page = await rows.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, UserQuery.MaxTake)).ToListAsync(ct);
        return (page.Select(ToRow).ToList(), total);
    }

    public async Task<UserDetail?> GetAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var since = MonthStart();
        var row = await Project(db, db.Users.AsNoTracking().Where(u => u.Id == userId), await AdminRoleIdAsync(db, ct, required: false), since).SingleOrDefaultAsync(ct);
        if (row is null)
            return null;
        var byModel = await db.UsageRecords.AsNoTracking().Where(r => r.UserId == userId && r.CreatedAt >= since && r.Source != UsageSource.Title)
            .GroupBy(r => r.Model)
            .Select(g => new { Model = g.Key, Tokens = g.Sum(r => (long)r.PromptTokens + r.CompletionTokens), Requests = g.Count() })
            .OrderByDescending(m => m.Tokens)
            .Select(m => new ModelUsage(m.Model, m.Tokens, m.Requests)).ToListAsync(ct);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId).OrderByDescending(k => k.CreatedAt)
            .Select(k => new ApiKeySummary(k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt)).ToListAsync(ct);
        var conversations = await db.Conversations.CountAsync(c => c.UserId == userId, ct);
        return new UserDetail(ToRow(row), row.Rpm, row.Tpm, row.Tpd, byModel.Sum(m => m.Requests), byModel, keys, conversations);
    }

    /// <summary>The id of the account with this email, for the operator commands.</summary>
    public async Task<string> IdByEmailAsync(string email, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = email.Trim().ToUpperInvariant();
        return await db.Users.Where(u => u.NormalizedEmail == normalized).Select(u => u.Id).SingleOrDefaultAsync(ct)
            ?? throw new UserAdminException($"No user has the email {email}.");
    }

    public async Task SetRoleAsync(AuditActor actor, string userId, string role, CancellationToken ct = default)
    {
        if (!Roles.All.Contains(role))
            throw new UserAdminException($"The role must be one of: {string.Join(", ", Roles.All)}.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await FindAsync(db, userId, ct);
        var adminRoleId = await AdminRoleIdAsync(db, ct);
        var isAdmin = await db.UserRoles.AnyAsync(r => r.UserId == userId && r.RoleId == adminRoleId, ct);
        if (isAdmin == (role == Roles.Admin))
            return;
        if (!isAdmin)
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = userId, RoleId = adminRoleId });
        else
        {
            await EnsureNotSelfOrLastAdminAsync(db, actor, user, adminRoleId, "demote", ct);
            db.UserRoles.Remove(new IdentityUserRole<string> { UserId = userId, RoleId = adminRoleId });
        }
        // The role is a claim in the user's cookie: a new stamp makes them sign in again under the new role.
        NewStamp(user);
        audit.Add(db, actor, AuditActions.UserRole, user.Email!, $"{(isAdmin ? Roles.Admin : Roles.User)} → {role}");
        await db.SaveChangesAsync(ct);
        await signOuts.PublishAsync(userId, SignOutReason.Changed, ct);
    }

    public async Task SetSuspendedAsync(AuditActor actor, string userId, bool suspended, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await FindAsync(db, userId, ct);
        if (DisabledAccounts.IsDisabled(user.LockoutEnabled, user.LockoutEnd) == suspended)
            return;
        if (suspended)
        {
            var adminRoleId = await AdminRoleIdAsync(db, ct);
            if (await db.UserRoles.AnyAsync(r => r.UserId == userId && r.RoleId == adminRoleId, ct))
                await EnsureNotSelfOrLastAdminAsync(db, actor, user, adminRoleId, "suspend", ct);
            else if (user.Id == actor.Id)
                throw new UserAdminException("You cannot suspend your own account.");
            // A lockout with no end refuses log-ins; API keys and JWTs check it on every request (DisabledAccounts).
            user.LockoutEnabled = true;
            user.LockoutEnd = DisabledAccounts.LockoutEnd;
            NewStamp(user);
        }
        else
        {
            user.LockoutEnd = null;
            user.AccessFailedCount = 0;
        }
        audit.Add(db, actor, suspended ? AuditActions.UserSuspend : AuditActions.UserUnsuspend, user.Email!,
            suspended ? "active → suspended" : "suspended → active");
        await db.SaveChangesAsync(ct);
        if (suspended)
            await signOuts.PublishAsync(userId, SignOutReason.Suspended, ct);
    }

    /// <summary>The plan takes effect with the user's next request: every path reads it from the account (<see cref="UserPlans"/>).</summary>
    public async Task SetPlanAsync(AuditActor actor, string userId, string plan, CancellationToken ct = default)
    {
        if (!plans.Plans.TryGetValue(plan.Trim(), out var chosen))
            throw new UserAdminException($"There is no plan '{plan}' (plans: {string.Join(", ", plans.Plans.Keys)}).");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await FindAsync(db, userId, ct);
        var old = plans.For(user.Plan).Name;
        if (user.Plan == chosen.Name)
            return;
        user.Plan = chosen.Name;
        audit.Add(db, actor, AuditActions.UserPlan, user.Email!, $"{old} → {chosen.Name}");
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Overrides of the plan's limits for this user; null keeps the plan's figure.</summary>
    public async Task SetOverridesAsync(AuditActor actor, string userId, long? requestsPerMinute, long? tokensPerMinute, long? tokensPerDay, CancellationToken ct = default)
    {
        if (requestsPerMinute is <= 0 || tokensPerMinute is <= 0 || tokensPerDay is <= 0)
            throw new UserAdminException("An override must be a whole number above 0, or empty to keep the plan's figure.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await FindAsync(db, userId, ct);
        var old = Describe(user.RequestsPerMinuteOverride, user.TokensPerMinuteOverride, user.TokensPerDayOverride);
        var now = Describe(requestsPerMinute, tokensPerMinute, tokensPerDay);
        if (old == now)
            return;
        user.RequestsPerMinuteOverride = requestsPerMinute;
        user.TokensPerMinuteOverride = tokensPerMinute;
        user.TokensPerDayOverride = tokensPerDay;
        audit.Add(db, actor, AuditActions.UserQuota, user.Email!, $"{old} → {now}");
        await db.SaveChangesAsync(ct);

        static string Describe(long? rpm, long? tpm, long? tpd) =>
            $"requests/min {rpm?.ToString() ?? "plan"}, tokens/min {tpm?.ToString() ?? "plan"}, tokens/day {tpd?.ToString() ?? "plan"}";
    }

    /// <summary>
    /// Sets <paramref name="temporaryPassword"/> (made by the caller and shown to the admin once); the user logs in with
    /// it and changes it. Their other sessions end: the reset gives the account a new security stamp.
    /// </summary>
    public async Task ResetPasswordAsync(AuditActor actor, string userId, string temporaryPassword, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByIdAsync(userId) ?? throw new UserAdminException("That user no longer exists.");
        // The entry goes into the context the user store saves with, so it is written with the new password or not at all.
        audit.Add(scope.ServiceProvider.GetRequiredService<AppDbContext>(), actor, AuditActions.UserPasswordReset, user.Email!, "temporary password set");
        var result = await users.ResetPasswordAsync(user, await users.GeneratePasswordResetTokenAsync(user), temporaryPassword);
        if (!result.Succeeded)
            throw new UserAdminException($"Could not reset the password of {user.Email}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        await signOuts.PublishAsync(userId, SignOutReason.Changed, ct);
    }

    /// <summary>
    /// The code of a one-time password-reset link (the one the forgot-password email carries; using it changes the
    /// security stamp, so it works once). Nothing changes until the user uses it.
    /// </summary>
    public async Task<string> CreateResetCodeAsync(AuditActor actor, string userId, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByIdAsync(userId) ?? throw new UserAdminException("That user no longer exists.");
        // Base64url as the reset page expects it (WebEncoders' encoding: no padding).
        var code = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(await users.GeneratePasswordResetTokenAsync(user)));
        await audit.WriteAsync(actor, AuditActions.UserPasswordReset, user.Email!, "one-time reset link made", ct);
        return code;
    }

    /// <summary>Revokes one key (<paramref name="keyId"/>) or all the user's live keys (null); returns how many.</summary>
    public async Task<int> RevokeApiKeysAsync(AuditActor actor, string userId, Guid? keyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await FindAsync(db, userId, ct);
        var keys = await db.ApiKeys.Where(k => k.UserId == userId && k.RevokedAt == null && (keyId == null || k.Id == keyId)).ToListAsync(ct);
        if (keys.Count == 0)
            return 0;
        var now = clock.GetUtcNow();
        foreach (var key in keys)
            key.RevokedAt = now;
        audit.Add(db, actor, AuditActions.UserApiKeyRevoke, user.Email!,
            keyId is null ? $"all live keys revoked ({keys.Count})" : $"key '{keys[0].Name}' ({keys[0].Prefix}…) revoked");
        await db.SaveChangesAsync(ct);
        return keys.Count;
    }

    /// <summary>
    /// Deletes the account and everything that is theirs: conversations and messages, API keys, usage rows, roles,
    /// logins (the database cascades from the user row). <paramref name="confirmEmail"/> must be the account's email,
    /// typed by the admin.
    /// </summary>
    public async Task DeleteAsync(AuditActor actor, string userId, string confirmEmail, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await FindAsync(db, userId, ct);
        if (!string.Equals(confirmEmail.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
            throw new UserAdminException("Type the user's email exactly to confirm the deletion.");
        var adminRoleId = await AdminRoleIdAsync(db, ct);
        if (await db.UserRoles.AnyAsync(r => r.UserId == userId && r.RoleId == adminRoleId, ct))
            await EnsureNotSelfOrLastAdminAsync(db, actor, user, adminRoleId, "delete", ct);
        else if (user.Id == actor.Id)
            throw new UserAdminException("You cannot delete your own account here.");
        var conversations = await db.Conversations.CountAsync(c => c.UserId == userId, ct);
        db.Users.Remove(user);
        audit.Add(db, actor, AuditActions.UserDelete, user.Email!, $"account and its data deleted ({conversations} conversations)");
        await db.SaveChangesAsync(ct);
        await signOuts.PublishAsync(userId, SignOutReason.Deleted, ct);
    }

    private async Task EnsureNotSelfOrLastAdminAsync(AppDbContext db, AuditActor actor, AppUser user, string adminRoleId, string verb, CancellationToken ct)
    {
        if (user.Id == actor.Id)
            throw new UserAdminException($"You cannot {verb} your own account; ask another admin.");
        // Admins who could still act: in the role and not suspended, besides this one.
        var others = await db.Users.Where(u => u.Id != user.Id && db.UserRoles.Any(r => r.UserId == u.Id && r.RoleId == adminRoleId))
            .Select(u => new { u.LockoutEnabled, u.LockoutEnd }).ToListAsync(ct);
        if (!others.Any(o => !DisabledAccounts.IsDisabled(o.LockoutEnabled, o.LockoutEnd)))
            throw new UserAdminException($"{user.Email} is the last active admin; make another admin first, then {verb} this one.");
    }

    private static async Task<AppUser> FindAsync(AppDbContext db, string userId, CancellationToken ct) =>
        await db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct) ?? throw new UserAdminException("That user no longer exists.");

    /// <param name="required">False for reading: before roles are seeded nobody is an admin ("" matches no role).</param>
    private static async Task<string> AdminRoleIdAsync(AppDbContext db, CancellationToken ct, bool required = true)
    {
        var normalized = Roles.Admin.ToUpperInvariant();
        return await db.Roles.Where(r => r.NormalizedName == normalized).Select(r => r.Id).SingleOrDefaultAsync(ct)
            ?? (required ? throw new InvalidOperationException("The Admin role does not exist; run the migrate command.") : "");
    }

    private static void NewStamp(AppUser user)
    {
        // Identity compares stamps as strings; a fresh random value is all that matters.
        user.SecurityStamp = Guid.NewGuid().ToString("N").ToUpperInvariant();
        user.ConcurrencyStamp = Guid.NewGuid().ToString();
    }

    private DateTimeOffset MonthStart()
    {
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    // A class with settable members, not a positional record: EF Core can order by what an initializer sets.
    private sealed class Projected
    {
        public string Id { get; init; } = "";
        public string Email { get; init; } = "";
        public string Name { get; init; } = "";
        public bool IsAdmin { get; init; }
        public string? Plan { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset? LastActiveAt { get; init; }
        public long Tokens { get; init; }
        public bool LockoutEnabled { get; init; }
        public DateTimeOffset? LockoutEnd { get; init; }
        public long? Rpm { get; init; }
        public long? Tpm { get; init; }
        public long? Tpd { get; init; }
    }

    private static IQueryable<Projected> Project(AppDbContext db, IQueryable<AppUser> users, string adminRoleId, DateTimeOffset since) =>
        users.Select(u => new Projected
        {
            Id = u.Id, Email = u.Email ?? "", Name = u.UserName ?? "",
            IsAdmin = db.UserRoles.Any(r => r.UserId == u.Id && r.RoleId == adminRoleId),
            Plan = u.Plan, CreatedAt = u.CreatedAt, LastActiveAt = u.LastActiveAt,
            // Titles are work the platform chose to do, not the user's usage (as in billing).
            Tokens = db.UsageRecords.Where(r => r.UserId == u.Id && r.CreatedAt >= since && r.Source != UsageSource.Title)
                .Sum(r => (long)r.PromptTokens + r.CompletionTokens),
            LockoutEnabled = u.LockoutEnabled, LockoutEnd = u.LockoutEnd,
            Rpm = u.RequestsPerMinuteOverride, Tpm = u.TokensPerMinuteOverride, Tpd = u.TokensPerDayOverride,
        });

    private UserRow ToRow(Projected p) => new(p.Id, p.Email, p.Name, p.IsAdmin ? Roles.Admin : Roles.User, plans.For(p.Plan).Name, p.CreatedAt,
        p.LastActiveAt, p.Tokens, DisabledAccounts.IsDisabled(p.LockoutEnabled, p.LockoutEnd));
}
