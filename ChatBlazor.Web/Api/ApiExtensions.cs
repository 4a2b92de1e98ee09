using System.Security.Claims;
using System.Text;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
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
    public bool IsConfigured => SigningKey.Length > 0;
}

public static class ApiExtensions
{
    /// <summary>API keys and the /v1 authentication (API key or JWT); limits come from AddLimits.</summary>
    public static void AddApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<CompletionGate>();

        var jwt = builder.Configuration.GetSection(JwtOptions.Section).Get<JwtOptions>() ?? new();
        if (jwt.IsConfigured && (Encoding.UTF8.GetByteCount(jwt.SigningKey) < 32 || jwt.Issuer.Length == 0 || jwt.Audience.Length == 0))
            throw new InvalidOperationException("Jwt:SigningKey needs at least 32 bytes, and Jwt:Issuer and Jwt:Audience must be set with it.");
        var authentication = builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(ApiAuthentication.Scheme, "API key or JWT", options => options.ForwardDefaultSelector = http =>
                jwt.IsConfigured && ApiAuthentication.BearerToken(http.Request) is { } token && !token.StartsWith(ApiKeyStore.SecretPrefix, StringComparison.Ordinal)
                    ? ApiAuthentication.JwtScheme
                    : ApiKeyAuthenticationHandler.SchemeName);
        if (jwt.IsConfigured)
            authentication.AddJwtBearer(ApiAuthentication.JwtScheme, options =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Issuer, ValidAudience = jwt.Audience, IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey)),
                    NameClaimType = "sub", ClockSkew = TimeSpan.FromSeconds(30),
                };
                options.Events = new JwtBearerEvents
                {
                    OnTokenValidated = async context =>
                    {
                        // The subject must be one of our users; their plan applies, never one the token claims.
                        var identity = (ClaimsIdentity)context.Principal!.Identity!;
                        var sub = identity.FindFirst("sub")?.Value;
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
                        foreach (var claim in identity.FindAll(ApiClaims.Plan).ToList())
                            identity.RemoveClaim(claim);
                        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, sub!));
                        if (user.Plan is { } plan)
                            identity.AddClaim(new Claim(ApiClaims.Plan, plan));
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        await ApiAuthentication.WriteUnauthorizedAsync(context.HttpContext, context.AuthenticateFailure is ApiCredentialRefusedException refused
                            ? refused.Message
                            : "The bearer token is not valid for this server (signature, issuer, audience or expiry).");
                    },
                };
            });
    }

    /// <summary>The OpenAI-compatible API under /v1, for API keys and JWTs only (never the browser's cookie).</summary>
    public static void MapApi(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").WithTags("OpenAI").RequireAuthorization(policy => policy
            .AddAuthenticationSchemes(ApiAuthentication.Scheme).RequireAuthenticatedUser());
        v1.MapGet("/models", ListModels);
        v1.MapPost("/chat/completions", (HttpContext http, IInferenceEngine engine, ILoggerFactory loggers, CompletionGate gate) =>
            OpenAiCompletions.ChatAsync(http, engine, loggers, gate));
        v1.MapPost("/completions", (HttpContext http, IInferenceEngine engine, ILoggerFactory loggers, CompletionGate gate) =>
            OpenAiCompletions.TextAsync(http, engine, loggers, gate));
    }

    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The models the caller's plan may use.</summary>
    private static JsonHttpResult<ModelList> ListModels(ClaimsPrincipal user, IInferenceEngine engine, PlanCatalog plans)
    {
        var plan = plans.For(user.FindFirstValue(ApiClaims.Plan));
        return TypedResults.Json(new ModelList("list", [.. engine.Models.Where(m => plan.Allows(m.Name))
            .Select(m => new ModelCard(m.Name, "model", Started, "chatblazor", m.ContextWindow))]), OpenAiJson.Options);
    }
}
