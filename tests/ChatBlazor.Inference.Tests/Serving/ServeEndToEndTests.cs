using System.Collections.Concurrent;
using System.Diagnostics;
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

    [Fact]
    public async Task TheHostContinuesTheCallersTrace()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is EngineMetrics.MeterName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var engine = new InferenceEngine([tiny.Model]);
        await using var host = await TestHost.StartAsync(engine, engine.Metrics);
        var remote = await RemoteEngine.ConnectAsync(host.Client);

        // The web app's side: a span current while its HttpClient calls the host, which sends it as traceparent.
        using (var caller = new Activity("web app call").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            await CollectAsync(remote.GenerateAsync(new CompletionRequest(tiny.Model.Name, SamplingParams.Greedy with { MaxTokens = 2 }, PromptTokens: [72, 101])));
            caller.Stop();

            var ours = stopped.Where(a => a.TraceId == caller.TraceId).ToList();
            // Under the caller's span (directly, or through HttpClient's own client span when that is listened to).
            var server = Assert.Single(ours, a => a.Kind == ActivityKind.Server);
            var generate = Assert.Single(ours, a => a.OperationName == "engine.generate");
            Assert.Equal(server.SpanId, generate.ParentSpanId);
        }
    }
}
