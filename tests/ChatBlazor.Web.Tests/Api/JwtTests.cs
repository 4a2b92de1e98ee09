using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using ChatBlazor.Core.Data;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatBlazor.Web.Tests.Api;

/// <summary>What a JWT must be to be accepted on /v1, and that nothing but its sub says who is calling.</summary>
public class JwtTests(JwtTests.Factory app) : IClassFixture<JwtTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        // 64 bytes, long enough for HS512: a key that short would refuse HS384/HS512 signatures on its own.
        public const string JwtKey = "a signing key of sixty-four bytes, long enough to sign HS512 too.";

        public Factory()
        {
            FreezeClock = true;
            SetPlan("Tiny", requestsPerMinute: 2, tokensPerMinute: 2000, tokensPerDay: 100_000);
            SetPlan("Big", requestsPerMinute: 1000, tokensPerMinute: 1_000_000, tokensPerDay: 10_000_000);
            Set("Jwt:Issuer", "https://issuer.test");
            Set("Jwt:Audience", "chatblazor-api");
            Set("Jwt:SigningKey", JwtKey);
        }

        public HttpClient Client(string token)
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return client;
        }
    }

    private static readonly object _hello = new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hello!" } }, max_tokens = 4 };

    /// <summary>A token as a caller might make it: every time claim is what the test gives, nothing is added.</summary>
    private static string Token(string subject, string algorithm = SecurityAlgorithms.HmacSha256, DateTime? issuedAt = null, DateTime? notBefore = null,
        DateTime? expires = null, Dictionary<string, object>? claims = null, bool signed = true) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://issuer.test", Audience = "chatblazor-api", IssuedAt = issuedAt, NotBefore = notBefore, Expires = expires,
            Claims = new Dictionary<string, object>(claims ?? []) { ["sub"] = subject },
            SigningCredentials = signed ? new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Factory.JwtKey)), algorithm) : null,
        });

    private static string FiveMinuteToken(string subject, string algorithm = SecurityAlgorithms.HmacSha256, Dictionary<string, object>? claims = null, bool signed = true) =>
        Token(subject, algorithm, DateTime.UtcNow, DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5), claims, signed);

    private async Task<HttpResponseMessage> ModelsAsync(string token) => await app.Client(token).GetAsync("/v1/models");

    [Fact]
    public async Task AFiveMinuteHs256TokenIsAccepted()
    {
        var (user, _) = await app.UserWithKeyAsync();

        Assert.Equal(HttpStatusCode.OK, (await ModelsAsync(FiveMinuteToken(user))).StatusCode);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.HmacSha384)]
    [InlineData(SecurityAlgorithms.HmacSha512)]
    public async Task ATokenSignedWithTheRightKeyButAnotherAlgorithmIsRefused(string algorithm)
    {
        var (user, _) = await app.UserWithKeyAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await ModelsAsync(FiveMinuteToken(user, algorithm))).StatusCode);
    }

    [Fact]
    public async Task AnUnsignedTokenIsRefused()
    {
        var (user, _) = await app.UserWithKeyAsync();
        var token = FiveMinuteToken(user, signed: false);
        Assert.Contains("\"alg\":\"none\"", Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.Split('.')[0])));

        Assert.Equal(HttpStatusCode.Unauthorized, (await ModelsAsync(token)).StatusCode);
    }

    [Fact]
    public async Task ATokenWithoutExpiryIsRefused()
    {
        var (user, _) = await app.UserWithKeyAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await ModelsAsync(Token(user, issuedAt: DateTime.UtcNow))).StatusCode);
    }

    // Minutes from now (null: the claim is absent); Jwt:MaxLifetimeMinutes is its default, 60.
    [Theory]
    [InlineData(0, null, 30, true)]
    [InlineData(null, null, 30, true)]
    [InlineData(0, null, 120, false)] // issued for two hours
    [InlineData(-120, null, 5, false)] // issued long-lived two hours ago, expiring soon
    [InlineData(110, null, 120, false)] // an iat in the future to hide a far exp
    [InlineData(null, 0, 120, false)] // measured from nbf when there is no iat
    [InlineData(null, null, 120, false)] // measured from now when there is neither
    public async Task ATokenLivingLongerThanTheMaximumIsRefused(int? issuedAt, int? notBefore, int expires, bool accepted)
    {
        var (user, _) = await app.UserWithKeyAsync();
        var now = DateTime.UtcNow;
        var token = Token(user, issuedAt: now.AddMinutes(issuedAt ?? 0) is var i && issuedAt is null ? null : i,
            notBefore: notBefore is null ? null : now.AddMinutes(notBefore.Value), expires: now.AddMinutes(expires));

        var response = await ModelsAsync(token);

        Assert.Equal(accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, response.StatusCode);
        if (!accepted)
            Assert.Contains("Jwt:MaxLifetimeMinutes", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task ClaimsBesideSubNeitherChangeWhoseUsageItIsNorThePlan()
    {
        var (caller, _) = await app.UserWithKeyAsync("Tiny");
        var (someoneElse, _) = await app.UserWithKeyAsync("Big");
        var token = FiveMinuteToken(caller, claims: new()
        {
            [ClaimTypes.NameIdentifier] = someoneElse, // "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
            ["plan"] = "Big",
        });

        var response = await app.Client(token).PostAsJsonAsync("/v1/chat/completions", _hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-ratelimit-limit-requests").Single()); // the caller's Tiny plan
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.UsageRecords.CountAsync(u => u.UserId == caller));
        Assert.Equal(0, await db.UsageRecords.CountAsync(u => u.UserId == someoneElse));
    }
}
