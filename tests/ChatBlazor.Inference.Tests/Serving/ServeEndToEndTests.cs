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
        using var engine = new InferenceEngine([tiny.Model]);
        using var recorder = new MeterRecorder(engine.Metrics.Meter);
        await using var host = await TestHost.StartAsync(engine, engine.Metrics);
        var remote = await RemoteEngine.ConnectAsync(host.Client);

        var served = await CollectAsync(remote.GenerateAsync(new CompletionRequest(tiny.Model.Name, sampling, PromptTokens: prompt)))
            .WaitAsync(TimeSpan.FromSeconds(60)); // a guard against hanging, not a timing

        Assert.Equal(string.Concat(alone.Select(c => c.Text)), string.Concat(served.Select(c => c.Text)));
        Assert.Equal(FinishReason.Length, served[^1].FinishReason);
        Assert.Equal(new GenerationUsage(prompt.Length, 12), served[^1].Usage);
        Assert.Equal(12, recorder.Sum("chatblazor_generation_tokens", tiny.Model.Name));
        // The exporter merges every engine of the process by model name (tests run others beside this one): at least ours.
        var scraped = Regex.Match(await host.Client.GetStringAsync("metrics"),
            $"(?m)^chatblazor_generation_tokens_total\\{{[^}}]*model_name=\"{Regex.Escape(tiny.Model.Name)}\"[^}}]*\\}} (\\d+)");
        Assert.True(scraped.Success, "no chatblazor_generation_tokens_total series for the model");
        Assert.InRange(long.Parse(scraped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 12, long.MaxValue);
    }
}
