using System.Runtime.CompilerServices;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;

namespace ChatBlazor.Core.Tests.Routing;

public class ModelRouterTests
{
    /// <summary>A test double: an engine that answers with its own name.</summary>
    private sealed class NamedEngineDouble(string name, params string[] models) : IInferenceEngine
    {
        public IReadOnlyList<ModelInfo> Models { get; } = models.Select(m => new ModelInfo(m, 2048)).ToArray();

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            yield return new GenerationChunk(name, [], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(1, 1));
        }
    }

    /// <summary>
    /// A test double: a replica that fails with <paramref name="failure"/>, before any chunk or after
    /// <paramref name="chunksFirst"/> chunks, and counts the requests it was given.
    /// </summary>
    private sealed class FailingEngineDouble(Exception failure, int chunksFirst = 0, params string[] models) : IInferenceEngine
    {
        public int Requests;

        public IReadOnlyList<ModelInfo> Models { get; } = models.Select(m => new ModelInfo(m, 2048)).ToArray();

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Requests);
            await Task.Yield();
            for (var i = 0; i < chunksFirst; i++)
                yield return new GenerationChunk("partial ", []);
            throw failure;
        }
    }

    private static async Task<string> AnswerAsync(IInferenceEngine engine, string model)
    {
        var text = "";
        await foreach (var chunk in engine.GenerateAsync(new CompletionRequest(model, SamplingParams.Greedy, PromptTokens: [1])))
            text += chunk.Text;
        return text;
    }

    [Fact]
    public async Task EachRequestGoesToTheEngineServingItsModel()
    {
        var router = new ModelRouter([new NamedEngineDouble("embedded", "small"), new NamedEngineDouble("gpu-host", "large", "coder")]);

        Assert.Equal(["small", "large", "coder"], router.Models.Select(m => m.Name));
        Assert.Equal("embedded", await AnswerAsync(router, "small"));
        Assert.Equal("gpu-host", await AnswerAsync(router, "coder"));
    }

    [Fact]
    public async Task AnUnknownModelIsReportedAsSuch() =>
        Assert.Equal("nope", (await Assert.ThrowsAsync<ModelNotFoundException>(() => AnswerAsync(new ModelRouter([]), "nope"))).Model);

    [Fact]
    public void OneEngineListingAModelTwiceIsAConfigurationError() =>
        Assert.Contains("'small'", Assert.Throws<InvalidOperationException>(() =>
            new ModelRouter([new NamedEngineDouble("a", "small", "small")])).Message);

    [Fact]
    public async Task EnginesServingOneModelAreReplicasListedOnceAndTakenInTurn()
    {
        var router = new ModelRouter([new NamedEngineDouble("a", "small", "large"), new NamedEngineDouble("b", "large"), new NamedEngineDouble("c", "large")]);

        var answers = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await AnswerAsync(router, "large"));
            await AnswerAsync(router, "small"); // another model's requests take no turns of this one's
        }

        Assert.Equal(["small", "large"], router.Models.Select(m => m.Name));
        Assert.Equal(["a", "b", "c", "a", "b", "c"], answers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReplicaThatIsDownOrFullBeforeItsFirstChunkPassesTheRequestToTheNext(bool overloaded)
    {
        Exception failure = overloaded ? new EngineOverloadedException("queue full") : new EngineUnavailableException("connection refused");
        var failing = new FailingEngineDouble(failure, 0, "large");
        var router = new ModelRouter([failing, new NamedEngineDouble("b", "large")]);

        var answers = new[] { await AnswerAsync(router, "large"), await AnswerAsync(router, "large") };

        Assert.Equal(["b", "b"], answers);
        Assert.Equal(1, failing.Requests); // its turn came once, and it passed the request on
    }

    [Fact]
    public async Task AReplicaThatFailedIsTriedAfterTheOthersUntilItsSetBackEnds()
    {
        var clock = new ClockDouble(DateTimeOffset.UnixEpoch);
        var down = new FailingEngineDouble(new EngineUnavailableException("connection refused"), 0, "large");
        var router = new ModelRouter([down, new NamedEngineDouble("b", "large")], clock: clock);

        for (var i = 0; i < 4; i++)
            Assert.Equal("b", await AnswerAsync(router, "large"));
        var triedWhileSetBack = down.Requests;
        clock.Advance(ModelRouter.SetBackFor);
        for (var i = 0; i < 2; i++)
            Assert.Equal("b", await AnswerAsync(router, "large"));

        Assert.Equal(1, triedWhileSetBack); // its first turn failed; its second came while it was set back
        Assert.Equal(2, down.Requests); // after the set-back it had its turn again
    }

    [Fact]
    public async Task AFailureAfterTheFirstChunkReachesTheCallerAndNoOtherReplicaIsAsked()
    {
        var failing = new FailingEngineDouble(new EngineUnavailableException("went away mid-reply"), 1, "large");
        var other = new FailingEngineDouble(new InvalidOperationException("not to be asked"), 0, "large");
        var router = new ModelRouter([failing, other]);

        await Assert.ThrowsAsync<EngineUnavailableException>(() => AnswerAsync(router, "large"));

        Assert.Equal(0, other.Requests);
    }

    [Fact]
    public async Task WhenEveryReplicaFailsTheLastFailureReachesTheCaller()
    {
        var router = new ModelRouter([
            new FailingEngineDouble(new EngineUnavailableException("first down"), 0, "large"),
            new FailingEngineDouble(new EngineOverloadedException("second full"), 0, "large"),
        ]);

        Assert.Equal("second full", (await Assert.ThrowsAsync<EngineOverloadedException>(() => AnswerAsync(router, "large"))).Message);
    }

    [Fact]
    public async Task ARequestTheModelRefusesIsNotTriedElsewhere()
    {
        var refusing = new FailingEngineDouble(new ArgumentException("prompt too long"), 0, "large");
        var other = new FailingEngineDouble(new InvalidOperationException("not to be asked"), 0, "large");
        var router = new ModelRouter([refusing, other]);

        await Assert.ThrowsAsync<ArgumentException>(() => AnswerAsync(router, "large"));

        Assert.Equal(0, other.Requests);
    }
}
