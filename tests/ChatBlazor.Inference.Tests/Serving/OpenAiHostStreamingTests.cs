using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using ChatBlazor.Inference.Generation;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The host's SSE streams, read with the standard SSE parser as an OpenAI client reads them.</summary>
public class OpenAiHostStreamingTests
{
    private const string StreamingChat = """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"stream":true}""";

    [Fact]
    public async Task ChatStreamIsServerSentEventsEndingWithDone()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", StreamingChat);
        var events = await TestHost.EventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        Assert.All(events[..^1], e => Assert.Equal("chat.completion.chunk", TestHost.Json(e).GetProperty("object").GetString()));
    }

    [Fact]
    public async Task ChatStreamSendsTheRoleFirstThenContentDeltasThenTheFinishReason()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/chat/completions", StreamingChat);
        var choices = (await TestHost.EventsAsync(response))[..^1].Select(e => TestHost.Json(e).GetProperty("choices")[0]).ToList();

        Assert.Equal("assistant", choices[0].GetProperty("delta").GetProperty("role").GetString());
        var content = choices.Skip(1).Select(c => c.GetProperty("delta")).Where(d => d.TryGetProperty("content", out _));
        Assert.Equal("Hello, world!", string.Concat(content.Select(d => d.GetProperty("content").GetString())));
        Assert.All(choices.Skip(1), c => Assert.False(c.GetProperty("delta").TryGetProperty("role", out _)));
        Assert.All(choices[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("finish_reason").ValueKind));
        Assert.Equal("stop", choices[^1].GetProperty("finish_reason").GetString());
        Assert.All(choices, c => Assert.Equal(0, c.GetProperty("index").GetInt32()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UsageIsStreamedOnlyWhenIncludeUsageIsSet(bool includeUsage)
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        var options = includeUsage ? """{"include_usage":true}""" : """{"include_usage":false}""";
        using var response = await host.PostAsync("v1/chat/completions",
            $$"""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{{options}}}""");
        var chunks = (await TestHost.EventsAsync(response))[..^1].Select(TestHost.Json).ToList();

        var withUsage = chunks.Where(c => c.TryGetProperty("usage", out _)).ToList();
        if (!includeUsage)
        {
            Assert.Empty(withUsage);
            return;
        }
        var last = Assert.Single(withUsage);
        Assert.Equal(chunks[^1].GetRawText(), last.GetRawText());
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal((5, 3, 8), (last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(),
            last.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), last.GetProperty("usage").GetProperty("total_tokens").GetInt32()));
    }

    [Fact]
    public async Task CompletionsStreamSendsTextCompletionChunks()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine());

        using var response = await host.PostAsync("v1/completions", """{"model":"scripted","prompt":"Say hi","stream":true}""");
        var events = await TestHost.EventsAsync(response);
        var chunks = events[..^1].Select(TestHost.Json).ToList();

        Assert.Equal("[DONE]", events[^1]);
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Equal("Hello, world!", string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task AFailureAfterStreamingBeganEndsTheStreamWithAnErrorEventAndDone()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine { FailAfterChunks = 2 });

        using var response = await host.PostAsync("v1/chat/completions", StreamingChat);
        var events = await TestHost.EventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1]);
        var error = TestHost.Json(events[^2]).GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.DoesNotContain("secret", error.GetProperty("message").GetString());
        Assert.DoesNotContain(events[..^2], e => TestHost.Json(e).GetProperty("choices")[0].GetProperty("finish_reason").ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public async Task ACancelledGenerationEndsTheStreamWithoutFinishReasonOrDone()
    {
        var engine = new ScriptedEngine { Chunks = [new("Hel", [1]), new("", [], FinishReason: FinishReason.Cancelled, Usage: new(5, 1))] };
        await using var host = await TestHost.StartAsync(engine);

        using var response = await host.PostAsync("v1/chat/completions", StreamingChat);
        var events = await TestHost.EventsAsync(response);

        Assert.DoesNotContain("[DONE]", events);
        Assert.All(events, e => Assert.Equal(JsonValueKind.Null, TestHost.Json(e).GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
    }

    [Fact]
    public async Task AClientThatDisconnectsCancelsTheEnginesToken()
    {
        var engine = new ScriptedEngine { Chunks = [new("Hello", [9707])], WaitForCancellation = true };
        await using var host = await TestHost.StartAsync(engine);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(StreamingChat) };
        using var response = await host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var disconnect = new CancellationTokenSource();
        var events = SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync(disconnect.Token).GetAsyncEnumerator();

        Assert.True(await events.MoveNextAsync()); // the role
        Assert.True(await events.MoveNextAsync()); // "Hello"; the engine now waits for more
        var pending = events.MoveNextAsync().AsTask();
        disconnect.Cancel(); // aborts the connection under the pending read

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await engine.Cancelled.WaitAsync(TimeSpan.FromSeconds(30)); // a guard against hanging, not a timing
    }
}
