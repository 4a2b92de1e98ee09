using System.Net;
using System.Text.Json;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>How the host reads requests, answers without streaming, and turns failures into OpenAI error objects.</summary>
public class OpenAiHostRequestTests
{
    private const string Chat = """{"model":"scripted","messages":[{"role":"user","content":"Hi"}]}""";

    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        var body = await TestHost.JsonAsync(response);
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        var error = body.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        return error;
    }

    [Fact]
    public async Task NonStreamingChatAnswersWithOneChatCompletionObject()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", Chat);
        var body = await TestHost.JsonAsync(response);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", body.GetProperty("id").GetString());
        Assert.Equal("scripted", body.GetProperty("model").GetString());
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Hello, world!", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal(8, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task NonStreamingCompletionAnswersWithOneTextCompletionObject()
    {
        var engine = new ScriptedEngine { Chunks = [new("one two", [1, 2], FinishReason: FinishReason.Length, Usage: new(3, 2))] };
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/completions", """{"model":"scripted","prompt":"count","max_tokens":2}""");
        var body = await TestHost.JsonAsync(response);

        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal("one two", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(3, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task NonAsciiTextIsWrittenAsUtf8RatherThanEscapes()
    {
        var engine = new ScriptedEngine { Chunks = [new("héllo 世界", [1], FinishReason: FinishReason.Stop, Usage: new(1, 1))] };
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/chat/completions", Chat);

        Assert.Contains("\"content\":\"héllo 世界\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MoreThanOneChoiceIsRefusedNamingN()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"n":2}""");
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("n", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUnknownModelIs404ModelNotFound(bool stream)
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", $$"""{"model":"gpt-9","messages":[{"role":"user","content":"Hi"}],"stream":{{(stream ? "true" : "false")}}}""");
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Contains("gpt-9", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnOverloadedEngineIs503WithRetryAfter(bool stream)
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine { FailBeforeFirstChunk = new EngineOverloadedException("The queue is full.") });

        using var response = await host.PostAsync("v1/completions", $$"""{"model":"scripted","prompt":"Hi","stream":{{(stream ? "true" : "false")}}}""");
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal("The queue is full.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnOutOfRangeTemperatureIs400NamingTemperature()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":500}""");
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("temperature", error.GetProperty("param").GetString());
        Assert.Equal("temperature must be between 0 and 100", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("", null)]
    [InlineData("null", null)]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":"hot"}""", "temperature")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"}]}""", "model")]
    [InlineData("""{"model":"scripted","messages":[]}""", "messages")]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages")]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"stop":[1]}""", "stop")]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"logit_bias":{"the":5}}""", "logit_bias")]
    public async Task AMalformedChatRequestIs400NamingTheField(string body, string? param)
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", body);
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("""{"model":"scripted","prompt":["one","two"]}""", "prompt")]
    [InlineData("""{"model":"scripted","prompt":[]}""", "prompt")]
    [InlineData("""{"model":"scripted"}""", "prompt")]
    [InlineData("""{"model":"scripted","prompt":"Hi","echo":true}""", "echo")]
    public async Task AMalformedCompletionRequestIs400NamingTheField(string body, string param)
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/completions", body);
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task AnUnexpectedEngineFailureIs500WithoutItsDetails()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine { FailBeforeFirstChunk = new InvalidOperationException("secret at Scheduler.Step()") });

        using var response = await host.PostAsync("v1/chat/completions", Chat);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("secret", text);
        Assert.DoesNotContain("Scheduler", text);
        Assert.Equal("server_error", (await ErrorAsync(response)).GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("[[1,2,3]]")]
    public async Task APromptOfTokenIdsReachesTheEngineAsPromptTokens(string prompt)
    {
        var engine = new ScriptedEngine();
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/completions", $$"""{"model":"scripted","prompt":{{prompt}}}""");
        var request = await engine.Received;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([1, 2, 3], request.PromptTokens);
        Assert.Null(request.Prompt);
        Assert.Null(request.Messages);
    }

    [Theory]
    [InlineData("\"Once upon\"")]
    [InlineData("[\"Once upon\"]")]
    public async Task APromptOfTextReachesTheEngineAsPrompt(string prompt)
    {
        var engine = new ScriptedEngine();
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/completions", $$"""{"model":"scripted","prompt":{{prompt}}}""");

        Assert.Equal("Once upon", (await engine.Received).Prompt);
    }

    [Fact]
    public async Task ChatFieldsReachTheEngineAsMessagesAndSamplingParams()
    {
        var engine = new ScriptedEngine();
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/chat/completions", """
            {"model":"scripted","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}],
             "max_tokens":10,"max_completion_tokens":20,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,"repetition_penalty":1.1,
             "frequency_penalty":0.5,"presence_penalty":-0.5,"logit_bias":{"42":-100},"seed":7,"stop":"\n\n","n":1,"ignore_eos":true,
             "logprobs":true,"top_logprobs":3,"user":"ignored"}
            """);
        var request = await engine.Received;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([new("system", "Be brief."), new("user", "Hi there")], request.Messages);
        var s = request.Sampling;
        Assert.Equal((20, 0.5, 0.9, 40, 0.05, 1.1), (s.MaxTokens, s.Temperature, s.TopP, s.TopK, s.MinP, s.RepetitionPenalty));
        Assert.Equal((0.5, -0.5, 7L, true, 3), (s.FrequencyPenalty, s.PresencePenalty, s.Seed!.Value, s.IgnoreEos, s.TopLogprobs!.Value));
        Assert.Equal(-100, s.LogitBias![42]);
        Assert.Equal(["\n\n"], s.Stop);
    }

    [Fact]
    public async Task ChatLogprobsComeInOpenAisShapeWithTokenIdsForText()
    {
        var engine = new ScriptedEngine
        {
            Chunks = [new("Hi", [17], [ScriptedEngine.Sampled(17, -0.25f, new(17, -0.25f), new(18, -2f))], FinishReason.Stop, new(1, 1))],
        };
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":2}""");
        var token = Assert.Single((await TestHost.JsonAsync(response)).GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content").EnumerateArray());

        Assert.Equal("token_id:17", token.GetProperty("token").GetString());
        Assert.Equal(-0.25, token.GetProperty("logprob").GetDouble());
        Assert.Equal(JsonValueKind.Null, token.GetProperty("bytes").ValueKind);
        Assert.Equal(["token_id:17", "token_id:18"], token.GetProperty("top_logprobs").EnumerateArray().Select(t => t.GetProperty("token").GetString()));
    }

    [Fact]
    public async Task CompletionLogprobsComeInTheLegacyShapeWithTextOffsets()
    {
        var engine = new ScriptedEngine
        {
            Chunks =
            [
                new("Hel", [1], [ScriptedEngine.Sampled(1, -0.5f, new TopToken(1, -0.5f))]),
                new("lo", [2], [ScriptedEngine.Sampled(2, -1f, new TopToken(2, -1f))], FinishReason.Stop, new(1, 2)),
            ],
        };
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/completions", """{"model":"scripted","prompt":"x","logprobs":1}""");
        var logprobs = (await TestHost.JsonAsync(response)).GetProperty("choices")[0].GetProperty("logprobs");

        Assert.Equal(["token_id:1", "token_id:2"], logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal([-0.5, -1.0], logprobs.GetProperty("token_logprobs").EnumerateArray().Select(t => t.GetDouble()));
        Assert.Equal(-1.0, logprobs.GetProperty("top_logprobs")[1].GetProperty("token_id:2").GetDouble());
        Assert.Equal([0, 3], logprobs.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()));
    }
}
