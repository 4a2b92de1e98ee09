using System.Security.Cryptography;
using System.Text;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.ApiKeys;

/// <summary>A key as its owner sees it in the list: never the secret.</summary>
public sealed record ApiKeySummary(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>The key a request authenticated with: whose it is.</summary>
public sealed record ApiKeyOwner(Guid KeyId, string UserId, string? Plan);

/// <summary>A presented key: its owner when it may be used; otherwise whether it is live but its owner's account is disabled.</summary>
public sealed record ApiKeyCheck(ApiKeyOwner? Owner, bool OwnerDisabled);

/// <summary>
/// Creating, listing, revoking and checking API keys. Keys read "cb-" + 43 base64url characters. Every check goes to
/// the database (one indexed lookup), so a revoked key stops working with the next request.
/// </summary>
public sealed class ApiKeyStore(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public const string SecretPrefix = "cb-";
    private const int PrefixLength = 11; // "cb-" and 8 characters of the secret
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>A new key; the secret is returned this once and never stored.</summary>
    public async Task<(ApiKeySummary Key, string Secret)> CreateAsync(string userId, string name, CancellationToken ct = default)
    {
        name = name.Trim();
        if (name.Length is 0 or > ApiKeyConfiguration.MaxNameLength)
            throw new ArgumentException($"A key needs a name of 1 to {ApiKeyConfiguration.MaxNameLength} characters.", nameof(name));
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey { UserId = userId, Name = name, Prefix = secret[..PrefixLength], Hash = HashOf(secret), CreatedAt = clock.GetUtcNow() };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct))
            throw new ArgumentException("No such user.", nameof(userId));
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return (Summary(key), secret);
    }

    public async Task<IReadOnlyList<ApiKeySummary>> ListAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.Where(k => k.UserId == userId).OrderByDescending(k => k.CreatedAt)
            .Select(k => new ApiKeySummary(k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt)).ToListAsync(ct);
    }

    /// <summary>Revokes one of the user's keys; false when it is not theirs or not found.</summary>
    public async Task<bool> RevokeAsync(string userId, Guid keyId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        return await db.ApiKeys.Where(k => k.Id == keyId && k.UserId == userId && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct) == 1
            || await db.ApiKeys.AnyAsync(k => k.Id == keyId && k.UserId == userId, ct);
    }

    /// <summary>The owner of a live key of an enabled account, or null for anything else (unknown, revoked, malformed, disabled).</summary>
    public async Task<ApiKeyOwner?> AuthenticateAsync(string secret, CancellationToken ct = default) => (await CheckAsync(secret, ct)).Owner;

    /// <summary>
    /// Like <see cref="AuthenticateAsync"/>, and says when a live key is refused because its owner's account is
    /// disabled, so the caller can tell them. Notes when a usable key was last used.
    /// </summary>
    public async Task<ApiKeyCheck> CheckAsync(string secret, CancellationToken ct = default)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal) || secret.Length > 100)
            return new ApiKeyCheck(null, false);
        var hash = HashOf(secret);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await db.ApiKeys.Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.UserId, k.User!.Plan, k.LastUsedAt, k.User.LockoutEnabled, k.User.LockoutEnd }).SingleOrDefaultAsync(ct);
        if (found is null)
            return new ApiKeyCheck(null, false);
        if (DisabledAccounts.IsDisabled(found.LockoutEnabled, found.LockoutEnd))
            return new ApiKeyCheck(null, true);
        var now = clock.GetUtcNow();
        if (found.LastUsedAt is null || now - found.LastUsedAt > LastUsedResolution) // one write a minute per key, not per request
            await db.ApiKeys.Where(k => k.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        return new ApiKeyCheck(new ApiKeyOwner(found.Id, found.UserId, found.Plan), false);
    }

    private static ApiKeySummary Summary(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt);

    private static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
