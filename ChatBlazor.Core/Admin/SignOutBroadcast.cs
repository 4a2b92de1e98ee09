using ChatBlazor.Core.Replies;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Core.Admin;

/// <summary>Why a user's sessions end: their pages tell them.</summary>
public enum SignOutReason { Suspended, Deleted, Changed }

/// <summary>
/// "End this user's open sessions now", told to every instance over a Redis channel (under Replies:KeyPrefix, so apps
/// sharing one Redis don't hear each other). Each instance closes the circuits it holds for that user. Cookies do not
/// depend on it: every request checks the account's security stamp, which the action changed first; so while Redis
/// is away a suspended user's open page ends at its next request to the server instead of at once.
/// </summary>
public sealed class SignOutBroadcast(IConnectionMultiplexer redis, IOptions<ReplyOptions> options, ILogger<SignOutBroadcast> log)
{
    private RedisChannel Channel => RedisChannel.Literal(options.Value.KeyPrefix + "accounts:sign-out");

    public async Task PublishAsync(string userId, SignOutReason reason, CancellationToken ct = default)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, $"{reason}:{userId}").WaitAsync(ct);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The change is saved and cookies are refused from the next request; only the instant close is lost.
            log.LogWarning(e, "Could not tell the other instances to end user {UserId}'s open pages", userId);
        }
    }

    /// <summary>Calls <paramref name="signOut"/> for every user whose sessions any instance ends, this one included.</summary>
    public Task SubscribeAsync(Action<string, SignOutReason> signOut) =>
        redis.GetSubscriber().SubscribeAsync(Channel, (_, message) =>
        {
            var text = (string?)message ?? "";
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && Enum.TryParse<SignOutReason>(text[..colon], out var reason))
                signOut(text[(colon + 1)..], reason);
        });
}
