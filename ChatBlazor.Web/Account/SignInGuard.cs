using System.ComponentModel.DataAnnotations;
using ChatBlazor.Core.Limits;

namespace ChatBlazor.Web.Account;

public sealed class SignInGuardOptions
{
    public const string Section = "SignIn";

    /// <summary>
    /// Attempts a client address may make per minute of each kind (log-in, sign-up, password-reset email,
    /// confirmation email), across all instances.
    /// </summary>
    [Range(1, 100_000)] public int AttemptsPerMinute { get; set; } = 30;
}

/// <summary>
/// Counts log-in, sign-up and account-email attempts per client address in Redis, shared by every instance. The
/// address is the client's own behind a known proxy (ForwardedHeaders), the connection's otherwise. It fails
/// closed: while Redis is unreachable no shared count exists, so password guessing could run at full speed on
/// every instance; attempts are refused with a message saying so until Redis is back (chat and API keep working).
/// </summary>
public sealed class SignInGuard(ILimitCounters counters, TimeProvider clock, Microsoft.Extensions.Options.IOptions<SignInGuardOptions> options, ILogger<SignInGuard> log)
{
    public const string Unavailable = "Logging in and signing up are paused for a moment because a required service is unavailable. Nothing was changed; please try again in a minute.";

    /// <summary>Null to go ahead; otherwise the message to show instead.</summary>
    public async Task<string?> RefuseAsync(HttpContext http, string action)
    {
        var now = clock.GetUtcNow();
        var windowEnd = RateLimiter.MinuteEnd(now);
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        try
        {
            var result = await counters.ReserveAsync([new Counter($"signin:{action}:{address}:{windowEnd.ToUnixTimeSeconds()}", options.Value.AttemptsPerMinute, 1, windowEnd)], http.RequestAborted);
            return result.Admitted ? null : $"Too many attempts from your network. Try again in {Math.Max(1, (int)Math.Ceiling((windowEnd - now).TotalSeconds))} seconds.";
        }
        catch (LimitStoreUnavailableException e)
        {
            log.LogError(e, "Refused a {Action} attempt: the limit store is unreachable", action);
            return Unavailable;
        }
    }
}
