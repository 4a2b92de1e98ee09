using System.Runtime.CompilerServices;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;

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
    public void TwoEnginesClaimingOneModelNameIsAConfigurationError() =>
        Assert.Contains("'small'", Assert.Throws<InvalidOperationException>(() =>
            new ModelRouter([new NamedEngineDouble("a", "small"), new NamedEngineDouble("b", "small")])).Message);
}
