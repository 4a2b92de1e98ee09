using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Data;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatBlazor.Web.Tests.Api;

/// <summary>/v1 over HTTP against the app as shipped (chatblazor-mini), with small plans to reach the limits.</summary>
public class ApiTests(ApiTests.Factory app) : IClassFixture<ApiTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            FreezeClock = true; // "2 requests a minute" must not meet a new minute halfway through a test
            SetPlan("Tiny", requestsPerMinute: 2, tokensPerMinute: 2000, tokensPerDay: 100_000);
            SetPlan("Bench", requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000, tokensPerDay: 1_000_000_000); // for ApiBench
            SetPlan("NoModels", requestsPerMinute: 10, tokensPerMinute: 10_000, tokensPerDay: 100_000);
            SetPlan("Narrow", requestsPerMinute: 10, tokensPerMinute: 500, tokensPerDay: 100_000);
            Set("Api:MaxRequestBytes", "65536");
            Set("Plans:NoModels:Models:0", "some-other-model");
            Set("Jwt:Issuer", "https://issuer.test");
            Set("Jwt:Audience", "chatblazor-api");
            Set("Jwt:SigningKey", JwtKey);
        }

        public const string JwtKey = "a test signing key of at least thirty-two bytes";

        public HttpClient Client(string? key)
        {
            var client = CreateClient();
            if (key is not null)
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return client;
        }
    }

    private static readonly object _hello = new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hello!" } }, max_tokens = 16 };

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");

    [Fact]
    public async Task NoKeyAWrongKeyAndARevokedKeyGetOpenAis401()
    {
        var (user, key) = await app.UserWithKeyAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Client(key).PostAsJsonAsync("/v1/chat/completions", _hello)).StatusCode);
        var id = (await app.Services.GetRequiredService<ApiKeyStore>().ListAsync(user)).Single().Id;
        Assert.True(await app.Services.GetRequiredService<ApiKeyStore>().RevokeAsync(user, id));

        foreach (var attempt in new[] { null, "cb-not-a-real-key", key })
        {
            var response = await app.Client(attempt).PostAsJsonAsync("/v1/chat/completions", _hello);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = await ErrorOf(response);
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Contains("API key", error.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task ACompletionCarriesRateLimitHeadersAndWritesAUsageRowForItsKey()
    {
        var (user, key) = await app.UserWithKeyAsync();

        var response = await app.Client(key).PostAsJsonAsync("/v1/chat/completions", _hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal("20", response.Headers.GetValues("x-ratelimit-limit-requests").Single()); // the Free plan of appsettings.json
        Assert.Equal("19", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Matches(@"^(\d+s|1m0s)$", response.Headers.GetValues("x-ratelimit-reset-requests").Single()); // within the minute
        Assert.Equal("40000", response.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.True(long.Parse(response.Headers.GetValues("x-ratelimit-remaining-tokens").Single()) < 40000);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.UsageRecords.SingleAsync(u => u.UserId == user);
        var keyId = (await app.Services.GetRequiredService<ApiKeyStore>().ListAsync(user)).Single().Id;
        Assert.Equal(("api", keyId, CompletionStatus.Complete), (row.Source, row.ApiKeyId, row.Status));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), row.PromptTokens);
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), row.CompletionTokens);
    }

    [Fact]
    public async Task OverTheRequestLimitA429SaysWhichLimitAndWhenItResets()
    {
        var (_, key) = await app.UserWithKeyAsync("Tiny");
        var client = app.Client(key);
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/chat/completions", _hello)).StatusCode);

        var response = await client.PostAsJsonAsync("/v1/chat/completions", _hello);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Equal("0", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        var error = await ErrorOf(response);
        Assert.Equal(("rate_limit_exceeded", "requests"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
        Assert.Contains("requests per minute", error.GetProperty("message").GetString());
        Assert.Contains("resets at", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ARequestThatCanNeverFitIs413AndAModelOutsideThePlanIs403()
    {
        var (_, tiny) = await app.UserWithKeyAsync("Tiny");
        var (_, narrow) = await app.UserWithKeyAsync("Narrow"); // 500 tokens a minute
        var tooBig = await app.Client(narrow).PostAsJsonAsync("/v1/chat/completions",
            new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 1000 });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("max_tokens", (await ErrorOf(tooBig)).GetProperty("param").GetString());

        var (_, none) = await app.UserWithKeyAsync("NoModels");
        var forbidden = await app.Client(none).PostAsJsonAsync("/v1/chat/completions", _hello);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("model_not_allowed", (await ErrorOf(forbidden)).GetProperty("code").GetString());

        var models = await app.Client(none).GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal(0, models.GetProperty("data").GetArrayLength());
        var all = await app.Client(tiny).GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal("chatblazor-mini", all.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task TheBrowsersCookieDoesNotOpenTheApi()
    {
        var response = await app.CreateClient().GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static string Jwt(string subject, string key = Factory.JwtKey, string audience = "chatblazor-api") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://issuer.test", Audience = audience, Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = subject },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });

    [Fact]
    public async Task AServiceWithASignedJwtCallsAsItsUserAndAnyOtherTokenIs401()
    {
        var (user, _) = await app.UserWithKeyAsync("Tiny");

        var ok = await app.Client(Jwt(user)).PostAsJsonAsync("/v1/chat/completions", _hello);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("2", ok.Headers.GetValues("x-ratelimit-limit-requests").Single()); // the user's plan applies

        foreach (var token in new[] { Jwt(user, key: "another signing key of at least thirty-two bytes"), Jwt(user, audience: "someone-else"), Jwt("no-such-user") })
        {
            var refused = await app.Client(token).GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("invalid_api_key", (await ErrorOf(refused)).GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task ADisabledUsersKeysAndTokensGetA401SayingTheAccountIsDisabled()
    {
        var (user, key) = await app.UserWithKeyAsync();
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var email = (await db.Users.SingleAsync(u => u.Id == user)).Email!;
        Assert.Equal(HttpStatusCode.OK, (await app.Client(Jwt(user)).GetAsync("/v1/models")).StatusCode);

        Assert.Equal(0, await ChatBlazor.Web.Operator.OperatorCommand.Parse(["admin", "disable-user", "--email", email])!.RunAsync(app.Services, TextWriter.Null, TextWriter.Null));

        foreach (var credential in new[] { key, Jwt(user) })
        {
            var refused = await app.Client(credential).PostAsJsonAsync("/v1/chat/completions", _hello);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var error = await ErrorOf(refused);
            Assert.Equal("account_suspended", error.GetProperty("code").GetString());
            Assert.StartsWith("This account has been suspended", error.GetProperty("message").GetString());
        }
    }
}
