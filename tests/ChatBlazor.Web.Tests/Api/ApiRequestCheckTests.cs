using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Api;

/// <summary>What /v1 refuses, and that it refuses before doing any work: the shipped app, small plans (ApiTests.Factory).</summary>
public class ApiRequestCheckTests(ApiTests.Factory app) : IClassFixture<ApiTests.Factory>
{
    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");

    private static object Chat(string content, int? maxTokens = 8, string model = "chatblazor-mini") =>
        new { model, messages = new[] { new { role = "user", content } }, max_tokens = maxTokens };

    [Theory]
    [InlineData("POST", "/v1/embeddings")]
    [InlineData("GET", "/v1/files")]
    [InlineData("POST", "/v1/chat/completions/extra")]
    public async Task APathTheApiDoesNotServeIsOpenAis404(string method, string path)
    {
        var (_, key) = await app.UserWithKeyAsync();

        var response = await app.Client(key).SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal(("invalid_request_error", "unknown_url"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains(path, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ABodyLargerThanTheLimitIs413BeforeItIsRead()
    {
        var (_, key) = await app.UserWithKeyAsync();

        var response = await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat(new string('x', 70_000))); // Api:MaxRequestBytes is 64 KiB here

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("65,536 bytes", (await ErrorOf(response)).GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(5000)]
    [InlineData(int.MaxValue)]
    public async Task AMaxTokensBelowOneOrBeyondTheWindowIs400NamingIt(int maxTokens)
    {
        var (_, key) = await app.UserWithKeyAsync();

        var response = await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("Hi", maxTokens));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("max_tokens", error.GetProperty("param").GetString());
        Assert.Contains("between 1 and 1,024", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnUnknownModelIs404AndCostsNothing()
    {
        var (_, key) = await app.UserWithKeyAsync("Tiny"); // 2 requests a minute
        var client = app.Client(key);

        var unknown = await client.PostAsJsonAsync("/v1/chat/completions", Chat("Hi", model: "gpt-17"));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("model_not_found", (await ErrorOf(unknown)).GetProperty("code").GetString());
        Assert.False(unknown.Headers.Contains("x-ratelimit-remaining-requests"));
        var first = await client.PostAsJsonAsync("/v1/chat/completions", Chat("Hi"));
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single()); // the 404 used none of the two
    }

    [Fact]
    public async Task ACallerOverItsLimitIsRefusedWith429EvenForAPromptTooLongForTheModel()
    {
        var (_, key) = await app.UserWithKeyAsync("Tiny"); // 2 requests a minute
        var client = app.Client(key);
        await client.PostAsJsonAsync("/v1/chat/completions", Chat("Hi"));
        await client.PostAsJsonAsync("/v1/chat/completions", Chat("Hi"));

        // 40,000 characters would never fit the 1,024-token window, but the caller is refused before it is tokenized.
        var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(string.Join(' ', Enumerable.Repeat("word", 8000))));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("requests per minute", (await ErrorOf(response)).GetProperty("message").GetString());
        Assert.True(response.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task APromptLongerThanTheWindowIs400ContextLengthExceeded()
    {
        var (_, key) = await app.UserWithKeyAsync();

        var response = await app.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat(string.Join(' ', Enumerable.Repeat("word", 3000))));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("context window is 1,024", error.GetProperty("message").GetString());
    }
}

/// <summary>/v1 in front of a model whose chat template refuses the messages, as real templates do for roles out of order.</summary>
public class ApiChatTemplateTests(ApiChatTemplateTests.Factory app) : IClassFixture<ApiChatTemplateTests.Factory>
{
    /// <summary>Test double: an engine whose template raises for any conversation that does not start with a user message.</summary>
    public sealed class TemplateEngineDouble : IInferenceEngine
    {
        public IReadOnlyList<ModelInfo> Models { get; } = [new("strict", 4096)];

        public IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("a refused conversation never reaches the engine");

        public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) => messages[0].Role == "user"
            ? TokenizedPrompt.Estimate(messages)
            : throw ChatTemplateException.Raised("Conversation roles must alternate user/assistant/user/assistant/...", 3, 5);
    }

    public sealed class Factory : AppFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IInferenceEngine>(new TemplateEngineDouble()));
        }
    }

    [Fact]
    public async Task ATemplateThatRefusesTheMessagesIsA400NamingTheTemplatesReason()
    {
        var (_, key) = await app.UserWithKeyAsync();
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        var response = await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "strict", messages = new[] { new { role = "assistant", content = "I speak first." } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("chat template refused these messages: Conversation roles must alternate", error.GetProperty("message").GetString());
    }
}
