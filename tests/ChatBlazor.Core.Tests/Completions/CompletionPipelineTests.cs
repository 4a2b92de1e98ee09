using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests.Completions;

public sealed class CompletionPipelineTests(PipelineHarness harness) : IClassFixture<PipelineHarness>
{
    private readonly SteppedEngineDouble _engine = new(contextWindow: 256);

    private static CompletionCall Call(CompletionCaller caller, string text = "hello", string model = "double", int maxTokens = 20) =>
        new(caller, UsageSource.Api, new CompletionRequest(model, new SamplingParams { MaxTokens = maxTokens }, Messages: [new ChatMessage("user", text)]));

    private async Task<UsageRecord> OnlyRowAsync(string userId)
    {
        await using var db = harness.Database.CreateDbContext();
        return await db.UsageRecords.AsNoTracking().SingleAsync(u => u.UserId == userId);
    }

    public static TheoryData<string> Endings => ["complete", "length", "stop", "client disconnect", "engine error", "engine host death", "web shutdown"];

    /// <summary>
    /// Every way a completion ends settles it once: the reservation (prompt + budget) moves to what was really used,
    /// the user's place among running replies is given back, and exactly one usage row says how it ended.
    /// </summary>
    [Theory, MemberData(nameof(Endings))]
    public async Task EveryEndingSettlesTheCountersToTheRealTokensAndWritesOneUsageRow(string ending)
    {
        var (user, caller) = await harness.UserAsync();
        var pipeline = harness.Pipeline(_engine);
        var ticket = await pipeline.AdmitAsync(Call(caller)); // "hello": 5 + 2 = 7 prompt tokens, budget 20
        Assert.Equal(27, await harness.UsedTodayAsync(user)); // reserved while it runs
        Assert.Equal(1, await harness.Running.RunningAsync(user));

        using var stop = new CancellationTokenSource();
        using var handOff = new CancellationTokenSource();
        var received = 0;
        async Task OnChunk(GenerationChunk chunk)
        {
            if (chunk.Text.Length > 0 && ++received == 3)
            {
                if (ending == "stop")
                    await stop.CancelAsync();
                if (ending == "web shutdown")
                    await handOff.CancelAsync();
                if (ending == "client disconnect")
                    throw new IOException("The client closed the connection.");
            }
        }
        var run = pipeline.RunAsync(ticket, OnChunk, stop.Token, handOff.Token);
        // Punctuation: the stream redactor passes it on at once (a letter might begin an email, so it would wait).
        foreach (var text in new[] { ",", ";", "!" })
        {
            await _engine.Asked.ReadAsync();
            _engine.Send(text);
        }
        if (ending is "complete" or "length" or "engine error" or "engine host death")
        {
            await _engine.Asked.ReadAsync();
            switch (ending)
            {
                case "complete": _engine.Send("d", FinishReason.Stop, completionTokens: 4); break;
                case "length": _engine.Send("d", FinishReason.Length, completionTokens: 4); break;
                case "engine error": _engine.Fail(new InvalidOperationException("a kernel failed")); break;
                default: _engine.Fail(new EngineUnavailableException("The model server went away mid-reply.")); break;
            }
        }
        var result = await run;

        if (ending == "web shutdown")
        {
            // Handed to another worker: nothing settled yet, the reservation stands; the run that continues settles once.
            Assert.True(result.HandedOff);
            Assert.Equal(27, await harness.UsedTodayAsync(user));
            var resumed = pipeline.RunAsync(ticket, _ => Task.CompletedTask, CancellationToken.None, resume: new ReplyProgress("abc", 3));
            await _engine.Asked.ReadAsync();
            _engine.Send("d", FinishReason.Stop, completionTokens: 1);
            result = await resumed;
            Assert.Equal("abc", _engine.Requests[^1].AssistantPrefix);
            Assert.Equal(17, _engine.Requests[^1].Sampling.MaxTokens); // the budget less what was written
        }

        var (status, completion) = ending switch
        {
            "complete" or "web shutdown" => (CompletionStatus.Complete, 4),
            "length" => (CompletionStatus.Length, 4),
            "stop" or "client disconnect" => (CompletionStatus.Stopped, 3),
            _ => (CompletionStatus.Failed, 3),
        };
        Assert.Equal((status, 7, completion), (result.Status, result.PromptTokens, result.CompletionTokens));
        var row = await OnlyRowAsync(user);
        Assert.Equal((ticket.Id, status, 7, completion, UsageSource.Api), (row.CompletionId, row.Status, row.PromptTokens, row.CompletionTokens, row.Source));
        Assert.Equal(7 + completion, await harness.UsedTodayAsync(user));
        Assert.Equal(0, await harness.Running.RunningAsync(user));
        if (status == CompletionStatus.Failed)
            Assert.NotNull(result.Error);
    }

    [Fact]
    public async Task SettlingAgainChangesNothing()
    {
        var (user, caller) = await harness.UserAsync();
        var pipeline = harness.Pipeline(_engine);
        var ticket = await pipeline.AdmitAsync(Call(caller));
        var result = new CompletionResult(CompletionStatus.Complete, 7, 4, TimeSpan.FromSeconds(1));

        await pipeline.SettleAsync(ticket, result);
        await pipeline.SettleAsync(ticket, result with { CompletionTokens = 400 }); // a second worker that took the reply over

        Assert.Equal(4, (await OnlyRowAsync(user)).CompletionTokens);
        Assert.Equal(11, await harness.UsedTodayAsync(user));
    }

    [Fact]
    public void TheVocabularyMapsToOpenAisFinishReasons()
    {
        Assert.Equal(["stop", "length", "content_filter", null, null],
            new[] { CompletionStatus.Complete, CompletionStatus.Length, CompletionStatus.Filtered, CompletionStatus.Stopped, CompletionStatus.Failed }.Select(s => s.FinishReason()));
        Assert.Equal(CompletionStatus.Stopped, CompletionStatuses.From(FinishReason.Cancelled)); // an engine's cancel is never "complete"
    }

    [Fact]
    public async Task AModelOutsideThePlanIsRefusedBeforeAnyWork()
    {
        var (user, caller) = await harness.UserAsync("OtherOnly");

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => harness.Pipeline(_engine).AdmitAsync(Call(caller, model: "double")));

        Assert.Equal(RefusalReason.ModelNotAllowed, refused.Reason);
        Assert.Contains("OtherOnly plan does not include the model 'double'", refused.Message);
        Assert.Equal(0, _engine.Tokenizations);
        Assert.Equal(0, await harness.UsedTodayAsync(user, "OtherOnly"));
        Assert.Equal(["other"], harness.Pipeline(_engine).ModelsFor(PipelineHarness.Plans.For("OtherOnly")).Select(m => m.Name));
    }

    [Fact]
    public async Task AnUnknownModelIsRefusedBeforeAnyWork()
    {
        var (user, caller) = await harness.UserAsync();

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => harness.Pipeline(_engine).AdmitAsync(Call(caller, model: "gpt-9")));

        Assert.Equal((RefusalReason.ModelNotFound, "model"), (refused.Reason, refused.Param));
        Assert.Equal(0, _engine.Tokenizations);
        Assert.Equal(0, await harness.UsedTodayAsync(user));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(257)]
    [InlineData(int.MaxValue)]
    public async Task AMaxTokensOutsideTheWindowIsRefusedNamingTheField(int maxTokens)
    {
        var (_, caller) = await harness.UserAsync();

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => harness.Pipeline(_engine).AdmitAsync(Call(caller, maxTokens: maxTokens)));

        Assert.Equal((RefusalReason.InvalidRequest, "max_tokens"), (refused.Reason, refused.Param));
        Assert.Contains("between 1 and 256", refused.Message);
    }

    [Fact]
    public async Task ACallerAlreadyOverALimitIsRefusedBeforeTheirPromptIsTokenized()
    {
        var (user, caller) = await harness.UserAsync("Tiny"); // one request a minute
        var pipeline = harness.Pipeline(_engine);
        await pipeline.WithdrawAsync(await pipeline.AdmitAsync(Call(caller)));
        var tokenized = _engine.Tokenizations;

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => pipeline.AdmitAsync(Call(caller, text: new string('x', 100_000))));

        Assert.Equal(RefusalReason.RateLimited, refused.Reason);
        Assert.Contains("requests per minute", refused.Message);
        Assert.Equal(tokenized, _engine.Tokenizations);
        Assert.NotNull(refused.RetryAt);
    }

    [Fact]
    public async Task APlanRunsAsManyRepliesAtOnceAsItAllowsAndFreesThePlaceWhenOneEnds()
    {
        var (user, caller) = await harness.UserAsync("Single");
        var pipeline = harness.Pipeline(_engine);
        var first = await pipeline.AdmitAsync(Call(caller));

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => pipeline.AdmitAsync(Call(caller)));
        Assert.Equal(RefusalReason.TooManyRunning, refused.Reason);
        Assert.Contains("1 reply in progress", refused.Message);
        Assert.Equal(27, await harness.UsedTodayAsync(user, "Single")); // the refused one reserved nothing

        var run = pipeline.RunAsync(first, _ => Task.CompletedTask, CancellationToken.None);
        await _engine.Asked.ReadAsync();
        _engine.Send("ok", FinishReason.Stop, completionTokens: 2);
        await run;
        await pipeline.WithdrawAsync(await pipeline.AdmitAsync(Call(caller)));
    }

    [Fact]
    public async Task APromptThatCannotFitTheWindowIsRefusedAsTooLong()
    {
        var (_, caller) = await harness.UserAsync();

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => harness.Pipeline(_engine).AdmitAsync(Call(caller, text: new string('x', 300))));

        Assert.Equal(RefusalReason.PromptTooLong, refused.Reason);
        Assert.Contains("302 tokens", refused.Message);
    }

    [Fact]
    public async Task ATemplateThatRefusesTheMessagesIsAClearRefusalNotACrash()
    {
        var (_, caller) = await harness.UserAsync();
        var engine = new TemplateRefusingEngineDouble();

        var refused = await Assert.ThrowsAsync<CompletionRefusedException>(() => harness.Pipeline(engine).AdmitAsync(Call(caller)));

        Assert.Equal((RefusalReason.InvalidRequest, "messages"), (refused.Reason, refused.Param));
        Assert.Contains("Conversation roles must alternate", refused.Message);
    }

    [Fact]
    public void CoreCodesAgainstTheContractsAndNeverLoadsTheEngine()
    {
        var references = typeof(CompletionPipeline).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.Contains("ChatBlazor.Inference.Contracts", references);
        Assert.DoesNotContain("ChatBlazor.Inference", references);
        Assert.DoesNotContain(references, name => name!.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name is "TorchSharp" or "ChatBlazor.Inference");
    }

    /// <summary>Test double: a model whose chat template raises, as real templates do for roles that do not alternate.</summary>
    private sealed class TemplateRefusingEngineDouble : IInferenceEngine
    {
        public IReadOnlyList<ModelInfo> Models { get; } = [new("double", 256)];

        public IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("never asked to generate");

        public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) =>
            throw ChatTemplateException.Raised("Conversation roles must alternate user/assistant/user/assistant/...", 1, 1);
    }
}
