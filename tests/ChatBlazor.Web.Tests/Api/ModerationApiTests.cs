using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Web.Tests.Moderation;

namespace ChatBlazor.Web.Tests.Api;

/// <summary><c>POST /v1/moderations</c> over HTTP: OpenAI's shapes, our rules beside them, the errors, the keys and the limits.</summary>
public class ModerationApiTests(ModerationApiTests.Factory app) : IClassFixture<ModerationApiTests.Factory>
{
    public sealed class Factory : ModerationAppFactory
    {
        public Factory()
        {
            FreezeClock = true; // the requests-per-minute test must stay in one minute
            SetPlan("Tiny", requestsPerMinute: 2, tokensPerMinute: 2000, tokensPerDay: 100_000);
        }

        public HttpClient Client(string? key)
        {
            var client = CreateClient();
            if (key is not null)
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return client;
        }
    }

    private async Task<HttpClient> ClientAsync(string? plan = null) => app.Client((await app.UserWithKeyAsync(plan)).Key);

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task AStringGetsOneResultWithEveryCategoryAndTheRulesThatFired()
    {
        var client = await ClientAsync();
        var text = $"Now {ModerationSamples.Override}, my mail is {ModerationSamples.Email}";

        var response = await client.PostAsJsonAsync("/v1/moderations", new { input = text, model = "omni-moderation-latest" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonOf(response);
        Assert.StartsWith("modr-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chatblazor-moderation", body.GetProperty("model").GetString());
        var result = Assert.Single(body.GetProperty("results").EnumerateArray());
        Assert.True(result.GetProperty("flagged").GetBoolean());
        var categories = result.GetProperty("categories").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetBoolean());
        var scores = result.GetProperty("category_scores").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(ModerationCategories.All.Order(), categories.Keys.Order());
        Assert.Equal(ModerationCategories.All.Order(), scores.Keys.Order());
        Assert.Equal(["jailbreak", "pii"], categories.Where(c => c.Value).Select(c => c.Key).Order());
        Assert.Equal(1, scores["jailbreak"]);
        Assert.Equal(0.01, scores["violence"], 3);
        var ours = result.GetProperty("chatblazor");
        Assert.Equal("block", ours.GetProperty("action").GetString());
        var rules = ours.GetProperty("rules").EnumerateArray()
            .Select(r => (r.GetProperty("id").GetString(), r.GetProperty("category").GetString(), r.GetProperty("start").GetInt32(), r.GetProperty("length").GetInt32()))
            .OrderBy(r => r.Item3).ToList();
        Assert.Equal([("jailbreak.override", "jailbreak", 0, 0), ("pii.email", "pii", 49, 17)], rules); // the phrase rule judges the whole text: no span
    }

    [Fact]
    public async Task AnArrayGetsOneResultPerItemInOrder()
    {
        var client = await ClientAsync();

        var response = await client.PostAsJsonAsync("/v1/moderations", new { input = new[] { "how do I kill a python process", "[score self-harm=0.9]", "badge EMP-123456" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await JsonOf(response)).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([false, true, true], results.Select(r => r.GetProperty("flagged").GetBoolean()));
        Assert.Equal(["allow", "review", "redact"], results.Select(r => r.GetProperty("chatblazor").GetProperty("action").GetString()));
        Assert.True(results[1].GetProperty("categories").GetProperty("self-harm").GetBoolean());
        Assert.Equal(0.9, results[1].GetProperty("category_scores").GetProperty("self-harm").GetDouble(), 3);
        Assert.Equal("pii.employee-id", results[2].GetProperty("chatblazor").GetProperty("rules")[0].GetProperty("id").GetString());
    }

    public static TheoryData<string, string> BadBodies() => new()
    {
        { """{"input": 42}""", "'input' must be a string or an array of strings." },
        { """{"input": []}""", "'input' is an empty array; give at least one string." },
        { """{"input": ["ok", {"type": "image_url"}]}""", "'input[1]' must be a string (this server moderates text only)." },
        { """{"model": "x"}""", "'input' is required: a string or an array of strings." },
        { """{"input": null}""", "'input' is required: a string or an array of strings." },
        { """["input"]""", "The request body must be a JSON object with an 'input' field." },
        { $$"""{"input": [{{string.Join(",", Enumerable.Repeat("\"a\"", 33))}}]}""", "'input' has 33 items; at most 32 are allowed." },
        { $$"""{"input": ["a", "{{new string('x', 32_001)}}"]}""", "'input[1]' has 32001 characters; at most 32000 are allowed." },
        { $$"""{"input": "{{new string('x', 32_001)}}"}""", "'input' has 32001 characters; at most 32000 are allowed." },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task ABadInputGetsOpenAisErrorNamingTheField(string json, string message)
    {
        var client = await ClientAsync();

        var response = await client.PostAsync("/v1/moderations", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonOf(response)).GetProperty("error");
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("input", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task NotJsonIsRefusedAndNoKeyIsUnauthorized()
    {
        var client = await ClientAsync();
        var notJson = await client.PostAsync("/v1/moderations", new StringContent("{input:", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal("invalid_request_error", (await JsonOf(notJson)).GetProperty("error").GetProperty("type").GetString());

        var anonymous = await app.Client(null).PostAsJsonAsync("/v1/moderations", new { input = "hi" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task EachCallCountsAgainstTheRequestsPerMinuteLimit()
    {
        var client = await ClientAsync("Tiny");

        var first = await client.PostAsJsonAsync("/v1/moderations", new { input = "one" });
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/moderations", new { input = "two" })).StatusCode);
        var third = await client.PostAsJsonAsync("/v1/moderations", new { input = "three" });

        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var error = (await JsonOf(third)).GetProperty("error");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.True(third.Headers.Contains("Retry-After"));
    }
}
