using System.Collections.Concurrent;
using System.Security.Claims;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Web.Account;

/// <summary>
/// Ends a user's sessions at once when an admin suspends, deletes or changes them (<see cref="UserAdmin"/>), in two
/// ways that do not depend on each other:
/// <list type="bullet">
/// <item>every request with a cookie compares the cookie's security stamp with the account's (one indexed read), so
/// the next request of a changed account is signed out, on any instance, Redis or not;</item>
/// <item>open pages (circuits) make no requests: each instance keeps its circuits by user (<see cref="OpenCircuits"/>)
/// and, told over Redis (<see cref="SignOutBroadcast"/>), makes that user's circuits anonymous, which sends the page
/// to the log-in page (Routes' NotAuthorized); that request finds the stale cookie and says why.</item>
/// </list>
/// </summary>
public static class SessionEnd
{
    private const string SuspendedItem = "ChatBlazor.SessionEnd.Suspended";

    /// <summary>On the log-in page's address after a suspended user's request was turned away.</summary>
    public const string SuspendedQuery = "suspended";

    public const string SuspendedNotice = "Your account has been suspended by an administrator, so you have been signed out. Ask them if you think this is a mistake.";
    public const string SuspendedLogIn = "This account has been suspended by an administrator; log-ins are refused. Ask them if you think this is a mistake.";

    public static void AddSessionEnd(this WebApplicationBuilder builder)
    {
        builder.Services.AddUserAdmin();
        builder.Services.AddSingleton<OpenCircuits>();
        builder.Services.AddScoped<CircuitHandler, CircuitSession>();
        builder.Services.AddHostedService<SignOutListener>();
        builder.Services.ConfigureApplicationCookie(cookie =>
        {
            // Identity's own check (SecurityStampValidator) stays behind ours: it refreshes roles and claims every
            // 30 minutes; ours only compares the stamp, so it is cheap enough for every request.
            var identityCheck = cookie.Events.OnValidatePrincipal;
            cookie.Events.OnValidatePrincipal = async context =>
            {
                if (await StampMatchesAsync(context))
                    await identityCheck(context);
            };
            // A page that needs a log-in sends a just-suspended user to the log-in page: it says why.
            var redirect = cookie.Events.OnRedirectToLogin;
            cookie.Events.OnRedirectToLogin = context =>
            {
                if (WasSuspended(context.HttpContext))
                    context.RedirectUri = QueryHelpers.AddQueryString(context.RedirectUri, SuspendedQuery, "true");
                return redirect(context);
            };
        });
    }

    /// <summary>True when this request was signed out because the account is suspended: the log-in page says so.</summary>
    public static bool WasSuspended(HttpContext http) => http.Items.ContainsKey(SuspendedItem);

    private static async Task<bool> StampMatchesAsync(CookieValidatePrincipalContext context)
    {
        var http = context.HttpContext;
        var stampClaim = http.RequestServices.GetRequiredService<IOptions<IdentityOptions>>().Value.ClaimsIdentity.SecurityStampClaimType;
        var userId = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var stamp = context.Principal?.FindFirstValue(stampClaim);
        if (userId is null)
            return true;
        await using var db = await http.RequestServices.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync(http.RequestAborted);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.SecurityStamp, u.LockoutEnabled, u.LockoutEnd }).SingleOrDefaultAsync(http.RequestAborted);
        if (user is not null && user.SecurityStamp == stamp)
            return true;
        if (user is not null && DisabledAccounts.IsDisabled(user.LockoutEnabled, user.LockoutEnd))
            http.Items[SuspendedItem] = true;
        context.RejectPrincipal();
        await http.SignOutAsync(IdentityConstants.ApplicationScheme);
        return false;
    }
}

/// <summary>This instance's open circuits by user id.</summary>
public sealed class OpenCircuits
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<CircuitSession, byte>> _byUser = new(StringComparer.Ordinal);

    internal void Add(string userId, CircuitSession session) => _byUser.GetOrAdd(userId, _ => new()).TryAdd(session, 0);

    internal void Remove(string userId, CircuitSession session)
    {
        if (_byUser.TryGetValue(userId, out var sessions) && sessions.TryRemove(session, out _) && sessions.IsEmpty)
            _byUser.TryRemove(new KeyValuePair<string, ConcurrentDictionary<CircuitSession, byte>>(userId, sessions));
    }

    /// <summary>Signs out every circuit of the user on this instance; returns how many.</summary>
    public int SignOut(string userId)
    {
        if (!_byUser.TryRemove(userId, out var sessions))
            return 0;
        foreach (var session in sessions.Keys)
            session.SignOut();
        return sessions.Count;
    }
}

/// <summary>One circuit: registered under its user while it is open, and able to make itself anonymous.</summary>
public sealed class CircuitSession(AuthenticationStateProvider authentication, OpenCircuits circuits) : CircuitHandler
{
    private string? _userId;

    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _userId = (await authentication.GetAuthenticationStateAsync()).User.FindFirstValue(ClaimTypes.NameIdentifier);
        if (_userId is not null)
            circuits.Add(_userId, this);
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        if (_userId is not null)
            circuits.Remove(_userId, this);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The circuit's user becomes anonymous: CascadingAuthenticationState re-renders on the circuit's own thread, and
    /// the page's [Authorize] sends it to the log-in page with a full load (RedirectToLogin).
    /// </summary>
    internal void SignOut() =>
        ((ServerAuthenticationStateProvider)authentication).SetAuthenticationState(
            Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
}

/// <summary>
/// Hears the sign-outs of every instance and ends this instance's circuits of those users. The broadcast (and with
/// it Redis) is resolved when the service starts, not when it is made: the host makes every hosted service before
/// starting any, and a configuration error must be reported by options validation, which starts first.
/// </summary>
internal sealed class SignOutListener(IServiceProvider services, OpenCircuits circuits, ILogger<SignOutListener> log) : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var broadcast = services.GetRequiredService<SignOutBroadcast>();
        // Once subscribed, StackExchange.Redis subscribes again by itself after a reconnect.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await broadcast.SubscribeAsync((userId, reason) =>
                {
                    var ended = circuits.SignOut(userId);
                    if (ended > 0)
                        log.LogInformation("Signed out {Count} open page(s) of user {UserId} ({Reason})", ended, userId, reason);
                });
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                log.LogWarning(e, "Could not subscribe to sign-outs yet; open pages of suspended users end at their next request until then");
                await Task.Delay(Retry, stoppingToken);
            }
        }
    }
}
