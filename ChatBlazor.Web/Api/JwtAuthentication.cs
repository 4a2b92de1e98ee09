using System.Security.Claims;
using System.Text;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatBlazor.Web.Api;

/// <summary>
/// JWT bearer tokens for service-to-service callers: <c>Jwt:Issuer</c>, <c>Jwt:Audience</c> and <c>Jwt:SigningKey</c>
/// (HMAC-SHA256, at least 32 bytes). The token's <c>sub</c> must be a user id here: the calls count against that
/// user under their plan. Without a signing key, only API keys are accepted.
/// </summary>
public sealed class JwtOptions
{
    public const string Section = "Jwt";
    public string Issuer { get; set; } = "";
    public string Audience { get; set; } = "";
    public string SigningKey { get; set; } = "";

    /// <summary>The longest lifetime a token may have (exp − iat, or exp − nbf, or exp − now when it has neither).</summary>
    public int MaxLifetimeMinutes { get; set; } = 60;

    public bool IsConfigured => SigningKey.Length > 0;

    /// <summary>Null when the settings can be used; otherwise what is wrong, naming the key.</summary>
    public string? Problem() => !IsConfigured ? null
        : Encoding.UTF8.GetByteCount(SigningKey) < 32 || Issuer.Length == 0 || Audience.Length == 0
            ? "Jwt:SigningKey needs at least 32 bytes, and Jwt:Issuer and Jwt:Audience must be set with it."
            : MaxLifetimeMinutes is < 1 or > 24 * 60
                ? $"Jwt:MaxLifetimeMinutes must be between 1 and 1440 (it is {MaxLifetimeMinutes})."
                : null;
}

/// <summary>
/// What a valid token is here: HS256 only (the same secret would otherwise verify HS384/HS512, and "none" is never
/// accepted), an expiry and a bounded lifetime (a leaked token dies soon), and a subject that is an enabled user.
/// Nothing else in a token is believed: the principal is rebuilt from <c>sub</c> and the database.
/// </summary>
internal static class JwtAuthentication
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    public static void Configure(JwtBearerOptions options, JwtOptions jwt)
    {
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = jwt.Issuer, ValidAudience = jwt.Audience, IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey)),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256], RequireSignedTokens = true, RequireExpirationTime = true,
            ClockSkew = ClockSkew,
        };
        options.Events = new JwtBearerEvents
        {
            OnTokenValidated = context => OnTokenValidatedAsync(context, TimeSpan.FromMinutes(jwt.MaxLifetimeMinutes)),
            OnChallenge = async context =>
            {
                context.HandleResponse();
                await ApiAuthentication.WriteUnauthorizedAsync(context.HttpContext, context.AuthenticateFailure is ApiCredentialRefusedException refused
                    ? refused.Message
                    : "The bearer token is not valid for this server (signature, algorithm, issuer, audience or expiry).");
            },
        };
    }

    private static async Task OnTokenValidatedAsync(TokenValidatedContext context, TimeSpan maxLifetime)
    {
        if (context.SecurityToken is not JsonWebToken token)
        {
            context.Fail("Unexpected token type.");
            return;
        }
        // From when it was issued (or valid), and never from later than now, so a token cannot claim a recent iat to
        // hide a far exp.
        var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var start = token.IssuedAt != DateTime.MinValue ? token.IssuedAt : token.ValidFrom != DateTime.MinValue ? token.ValidFrom : now;
        if (token.ValidTo - (start < now ? start : now) > maxLifetime + ClockSkew)
        {
            context.Fail(new ApiCredentialRefusedException(
                $"The bearer token lives longer than this server accepts ({maxLifetime.TotalMinutes:0} minutes from iat, nbf or now to exp, Jwt:MaxLifetimeMinutes); issue one that expires sooner."));
            return;
        }

        // The subject must be exactly one of our users; their plan applies, never one the token claims.
        var subjects = context.Principal!.FindAll(JwtRegisteredClaimNames.Sub).Select(c => c.Value).ToList();
        var sub = subjects.Count == 1 ? subjects[0] : null;
        await using var db = await context.HttpContext.RequestServices.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var user = sub is null ? null : await db.Users.Where(u => u.Id == sub).Select(u => new { u.Plan, u.LockoutEnabled, u.LockoutEnd }).SingleOrDefaultAsync();
        if (user is null)
        {
            context.Fail("The token's subject is not a user of this server.");
            return;
        }
        if (DisabledAccounts.IsDisabled(user.LockoutEnabled, user.LockoutEnd))
        {
            context.Fail(new ApiCredentialRefusedException(ApiAuthentication.AccountDisabled));
            return;
        }
        // A fresh identity: any other claim (a nameidentifier naming someone else, a plan, a role) is dropped here.
        List<Claim> claims = [new(ClaimTypes.NameIdentifier, sub!)];
        if (user.Plan is { } plan)
            claims.Add(new Claim(ApiClaims.Plan, plan));
        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiAuthentication.JwtScheme));
    }
}
