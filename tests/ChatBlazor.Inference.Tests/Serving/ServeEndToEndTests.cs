using System.Text.RegularExpressions;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Inference.Tests.Generation;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The real engine behind the host, read back through <see cref="RemoteEngine"/>: what a GPU box serves.</summary>
public class ServeEndToEndTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    private static async Task<List<GenerationChunk>> CollectAsync(IAsyncEnumerable<GenerationChunk> stream)
    {
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in stream)
            chunks.Add(chunk);
        return chunks;
    }

    [Fact]
    public async Task AGreedyCompletionThroughTheHostMatchesTheModelRunAlone()
    {
        var sampling = SamplingParams.Greedy with { IgnoreEos = true, MaxTokens = 12 };
        int[] prompt = [72, 101, 108, 108, 111, 44, 32, 119];
        var alone = await CollectAsync(tiny.Model.Generator.GenerateAsync(prompt, sampling));
        var model = tiny.Model.Named($"tiny-{Guid.NewGuid():N}"); // a name of its own: the engine meter is the process's
        using var engine = new InferenceEngine([model]);
        using var recorder = new MeterRecorder(EngineMetrics.Meter);
        await using var host = await TestHost.StartAsync(engine, engine.Metrics);
        var remote = await RemoteEngine.ConnectAsync(host.Client);

        var served = await CollectAsync(remote.GenerateAsync(new CompletionRequest(model.Name, sampling, PromptTokens: prompt)))
            .WaitAsync(TimeSpan.FromSeconds(60)); // a guard against hanging, not a timing

        Assert.Equal(string.Concat(alone.Select(c => c.Text)), string.Concat(served.Select(c => c.Text)));
        Assert.Equal(FinishReason.Length, served[^1].FinishReason);
        Assert.Equal(new GenerationUsage(prompt.Length, 12), served[^1].Usage);
        Assert.Equal(12, recorder.Sum("chatblazor_generation_tokens", model.Name));
        Assert.Matches($"(?m)^chatblazor_generation_tokens_total\\{{[^}}]*model_name=\"{Regex.Escape(model.Name)}\"[^}}]*\\}} 12( |$)", await host.Client.GetStringAsync("metrics"));
    }
}
