using System.Security.Claims;
using System.Text.Encodings.Web;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Api;

/// <summary>The claims an API caller carries beside its user id.</summary>
public static class ApiClaims
{
    public const string KeyId = "api_key_id";
    public const string Plan = "plan";
}

/// <summary>
/// <c>Authorization: Bearer cb-…</c>: the key must exist and not be revoked (checked on every request). Anything
/// else fails with OpenAI's 401 error object, which the SDKs raise as their authentication error.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiAuthentication.BearerToken(Request) is not { } token)
            return AuthenticateResult.NoResult();
        var check = await keys.CheckAsync(token, Context.RequestAborted);
        if (check.OwnerDisabled)
            return AuthenticateResult.Fail(new ApiCredentialRefusedException(ApiAuthentication.AccountDisabled));
        if (check.Owner is not { } owner)
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        Claim[] claims = [new(ClaimTypes.NameIdentifier, owner.UserId), new(ApiClaims.KeyId, owner.KeyId.ToString()), .. owner.Plan is { } p ? [new Claim(ApiClaims.Plan, p)] : Array.Empty<Claim>()];
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties) =>
        await ApiAuthentication.WriteUnauthorizedAsync(Context, (await HandleAuthenticateOnceSafeAsync()).Failure is ApiCredentialRefusedException refused
            ? refused.Message
            : ApiAuthentication.BearerToken(Request) is null
                ? "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'; create one under API keys in your account menu."
                : "Incorrect API key provided. It may have been revoked; create a new one under API keys in your account menu.");
}

/// <summary>A credential refused for a reason its caller should read in the 401 (unlike a bad signature or unknown key).</summary>
internal sealed class ApiCredentialRefusedException(string message) : Exception(message);

internal static class ApiAuthentication
{
    /// <summary>Picks the handler by the token's shape: our keys start with "cb-", anything else is read as a JWT.</summary>
    public const string Scheme = "Api";
    public const string JwtScheme = "Jwt";

    /// <summary>
    /// The 401 for a live key or valid token of a suspended account (401, not 403: the credential no longer
    /// authenticates anyone, and OpenAI's SDKs raise their authentication error for it). Its code is
    /// <see cref="AccountSuspendedCode"/>, so a client can tell it from a wrong key.
    /// </summary>
    public const string AccountDisabled = "This account has been suspended by an administrator of this server, so its API keys and tokens are refused. Ask them if you think this is a mistake.";

    public const string AccountSuspendedCode = "account_suspended";

    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }

    public static async Task WriteUnauthorizedAsync(HttpContext http, string message)
    {
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        var code = message == AccountDisabled ? AccountSuspendedCode : "invalid_api_key";
        await http.Response.WriteAsJsonAsync(new ErrorResponse(new ErrorBody(message, "invalid_request_error", null, code)), OpenAiJson.Options);
    }
}
