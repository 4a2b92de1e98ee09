using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class OpenAiStreamingTargetTests
{
    private static async Task<LoadRun> RunAsync(CompletionsServerDouble server, int requests, int? concurrency, LoadgenEndpoint endpoint = LoadgenEndpoint.Completions)
    {
        using var http = new HttpClient();
        var target = new OpenAiStreamingTarget(http, server.BaseUrl, "double", endpoint);
        var prompts = endpoint == LoadgenEndpoint.Chat
            ? PromptFactory.TextPrompts(requests, 12, 0, 8, seed: 0)
            : PromptFactory.TokenPrompts(requests, 12, 0, 8, vocabSize: 500, seed: 0);
        // A safety net so a broken client fails the test instead of hanging it; no assertion depends on time.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await new LoadRunner(target, concurrency, arrivals: null).RunAsync(prompts, deadline.Token);
    }

    [Fact]
    public async Task RunCountsEveryRequestAndTheTokensTheServerReports()
    {
        // 4 chunks of 2 tokens each: usage says 8 tokens, while the client sees 4 chunks and 3 gaps per request.
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript { Chunks = 4, TokensPerChunk = 2 });

        var run = await RunAsync(server, requests: 5, concurrency: 2);
        var report = LoadReport.From(run);

        Assert.Equal((5, 0, 0), (report.Completed, report.Failed, report.Unfinished));
        Assert.Equal(5 * 12, report.TotalInputTokens);
        Assert.Equal(5 * 8, report.TotalOutputTokens);
        Assert.All(run.Results, r => Assert.Equal(4, r!.ChunkTimesS.Count));
        Assert.Equal(5 * 3, run.Results.Sum(r => r!.InterChunkGapsS.Count()));
        Assert.Equal(0, report.OutputCountedFromChunks);
    }

    [Fact]
    public async Task RequestsAskForAGreedyStreamOfExactlyOutputLenTokensWithUsage()
    {
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript());

        await RunAsync(server, requests: 3, concurrency: 1);

        Assert.Equal(3, server.RequestBodies.Count);
        Assert.All(server.RequestBodies, body =>
        {
            Assert.Equal("double", body.GetProperty("model").GetString());
            Assert.Equal(12, body.GetProperty("prompt").GetArrayLength());
            Assert.All(body.GetProperty("prompt").EnumerateArray(), id => Assert.InRange(id.GetInt32(), 0, 499));
            Assert.Equal(8, body.GetProperty("max_tokens").GetInt32());
            Assert.True(body.GetProperty("ignore_eos").GetBoolean());
            Assert.True(body.GetProperty("stream").GetBoolean());
            Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
            Assert.Equal(0, body.GetProperty("temperature").GetDouble());
        });
    }

    [Fact]
    public async Task ServerReturning503IsCountedAsFailedWithItsMessage()
    {
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript { Refuse = (503, "the request queue is full") });

        var report = LoadReport.From(await RunAsync(server, requests: 4, concurrency: 2));

        Assert.Equal((0, 4), (report.Completed, report.Failed));
        Assert.Equal([new ErrorCount("HTTP 503: the request queue is full", 4)], report.Errors);
    }

    [Fact]
    public async Task AnErrorInsideTheStreamIsCountedAsFailedWithItsMessage()
    {
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript { ErrorMidStream = "the engine stopped" });

        var report = LoadReport.From(await RunAsync(server, requests: 2, concurrency: 2));

        Assert.Equal((0, 2), (report.Completed, report.Failed));
        Assert.Equal([new ErrorCount("error in stream: the engine stopped", 2)], report.Errors);
    }

    [Fact]
    public async Task ConcurrencyCapIsReachedButNeverExceeded()
    {
        // The double holds streams until 3 are in flight, so a correct client reaches exactly 3 over real sockets.
        // An overshoot is not reliably visible here (streams end fast); LoadRunnerTests checks that deterministically.
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript { HoldUntilInFlight = 3, ExpectedRequests = 12 });

        var report = LoadReport.From(await RunAsync(server, requests: 12, concurrency: 3));

        Assert.Equal(12, report.Completed);
        Assert.Equal(3, server.MaxInFlight);
    }

    [Fact]
    public async Task WithoutUsageTheRunCountsOneTokenPerChunk()
    {
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript { Chunks = 5, TokensPerChunk = 3, SendUsage = false });

        var report = LoadReport.From(await RunAsync(server, requests: 2, concurrency: 2));

        Assert.Equal(2 * 5, report.TotalOutputTokens);
        Assert.Equal(2, report.OutputCountedFromChunks);
    }

    [Fact]
    public async Task ChatEndpointTimesEveryDeltaWithContent()
    {
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript { Chunks = 3, TokensPerChunk = 2 });

        var run = await RunAsync(server, requests: 2, concurrency: 2, LoadgenEndpoint.Chat);

        Assert.Equal(2, LoadReport.From(run).Completed);
        Assert.All(run.Results, r => Assert.Equal((3, 6), (r!.ChunkTimesS.Count, r.OutputTokens)));
        Assert.All(server.RequestBodies, body => Assert.Equal("user", body.GetProperty("messages")[0].GetProperty("role").GetString()));
    }

    [Fact]
    public async Task ModelListGivesTheModelsContextWindowAndVocabulary()
    {
        await using var server = await CompletionsServerDouble.StartAsync(new ServerScript());
        using var http = new HttpClient();

        var model = await ServerModel.FetchAsync(http, server.BaseUrl, model: null, CancellationToken.None);

        Assert.Equal(new ServerModel("double", 2048, 500), model);
    }
}
