using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Tests.Models;

namespace ChatBlazor.Inference.Tests.Generation;

/// <summary>A tiny random-weights model with a byte-level tokenizer, written once for the class.</summary>
public sealed class TinyModel : IDisposable
{
    public TinyModel()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"chatblazor-tiny-{Guid.NewGuid():N}");
        Assert.Equal(0, Inference.Cli.Program.Main(["init-random", "--preset", "tiny", "--out", Directory, "--seed", "3"]).GetAwaiter().GetResult());
        Model = LoadedModel.Load(Directory);
    }

    public string Directory { get; }

    public LoadedModel Model { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public class GeneratorTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    private static readonly int[] Prompt = [72, 101, 108, 108, 111, 44, 32, 119];

    private static async Task<List<GenerationChunk>> RunAsync(Generator generator, SamplingParams parameters, IReadOnlyList<int>? prompt = null, CancellationToken token = default)
    {
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in generator.GenerateAsync(prompt ?? Prompt, parameters, token))
            chunks.Add(chunk);
        return chunks;
    }

    private static int[] Tokens(IEnumerable<GenerationChunk> chunks) => chunks.SelectMany(c => c.TokenIds).ToArray();

    [Fact]
    public async Task GreedyGenerationReproducesTheReferenceContinuation()
    {
        var model = LoadedModel.Load(GoldenModelTests.FixturePath("tiny-f32"));
        var reference = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenModelTests.FixturePath("tiny-f32"), "expected.json")))
            .RootElement.GetProperty("cases")[1];
        var prompt = reference.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var greedy = reference.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        var chunks = await RunAsync(model.Generator, SamplingParams.Greedy with { MaxTokens = greedy.Length, IgnoreEos = true }, prompt);

        Assert.Equal(greedy, Tokens(chunks));
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
        Assert.Equal(new GenerationUsage(prompt.Length, greedy.Length), chunks[^1].Usage);
    }

    [Fact]
    public async Task TheSameSeedGivesTheSameCompletionAndAnotherSeedAnother()
    {
        var sampling = new SamplingParams { Temperature = 1.0, Seed = 11, MaxTokens = 24, IgnoreEos = true };

        var first = Tokens(await RunAsync(tiny.Model.Generator, sampling));
        var again = Tokens(await RunAsync(tiny.Model.Generator, sampling));
        var other = Tokens(await RunAsync(tiny.Model.Generator, sampling with { Seed = 12 }));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task AStopSequenceAcrossATokenBoundaryEndsTheReplyWithoutIt()
    {
        var greedy = SamplingParams.Greedy with { MaxTokens = 40, IgnoreEos = true };
        var free = await RunAsync(tiny.Model.Generator, greedy);
        var boundary = Enumerable.Range(1, free.Count - 2).First(i => free[i].Text.Length > 0 && free[i + 1].Text.Length > 0);
        var before = string.Concat(free.Take(boundary + 1).Select(c => c.Text));
        var stop = free[boundary].Text[^1..] + free[boundary + 1].Text[..1];

        var stopped = await RunAsync(tiny.Model.Generator, greedy with { Stop = [stop] });
        var text = string.Concat(stopped.Select(c => c.Text));

        Assert.Equal(FinishReason.Stop, stopped[^1].FinishReason);
        Assert.Equal(before[..before.IndexOf(stop, StringComparison.Ordinal)], text);
        Assert.DoesNotContain(stop, text);
    }

    [Fact]
    public async Task CancellingEndsTheStreamAtTheNextStepWithReasonCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var chunks = new List<GenerationChunk>();

        await foreach (var chunk in tiny.Model.Generator.GenerateAsync(Prompt, SamplingParams.Greedy with { MaxTokens = 200, IgnoreEos = true }, cancel.Token))
        {
            chunks.Add(chunk);
            if (chunks.Count == 3)
                cancel.Cancel();
        }

        Assert.Equal(4, chunks.Count);
        Assert.Equal(FinishReason.Cancelled, chunks[^1].FinishReason);
        Assert.Equal(3, chunks[^1].Usage!.CompletionTokens);
    }

    [Fact]
    public async Task AnEndOfSequenceTokenFinishesWithReasonStopAndNoText()
    {
        var eos = tiny.Model.EosTokenIds[0];
        var forced = SamplingParams.Greedy with { LogitBias = new Dictionary<int, double> { [eos] = 100 } };

        var chunks = await RunAsync(tiny.Model.Generator, forced);

        Assert.Single(chunks);
        Assert.Equal(FinishReason.Stop, chunks[0].FinishReason);
        Assert.Equal("", chunks[0].Text);
        Assert.Equal(1, chunks[0].Usage!.CompletionTokens);
    }

    [Fact]
    public async Task LogprobsComeWithEveryTokenWhenAskedFor()
    {
        var chunks = await RunAsync(tiny.Model.Generator, SamplingParams.Greedy with { MaxTokens = 5, IgnoreEos = true, TopLogprobs = 3 });

        Assert.All(chunks, c =>
        {
            var sampled = Assert.Single(c.Logprobs!);
            Assert.Equal(c.TokenIds[0], sampled.Id);
            Assert.Equal(3, sampled.Top!.Count);
            Assert.Equal(sampled.Top[0].Id, sampled.Id); // greedy picks the most likely token
            Assert.Equal(tiny.Model.Tokenizer!.Decode([sampled.Id]), sampled.Text);
            Assert.All(sampled.Top, top => Assert.NotNull(top.Text));
            Assert.True(sampled.Logprob <= 0);
        });
    }

    [Fact]
    public async Task AllChunksTogetherDecodeToTheSameTextAsTheTokens()
    {
        var chunks = await RunAsync(tiny.Model.Generator, new SamplingParams { Seed = 5, MaxTokens = 60, IgnoreEos = true });

        Assert.Equal(tiny.Model.Tokenizer!.Decode(Tokens(chunks), skipSpecialTokens: true), string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public async Task APromptLongerThanTheContextWindowIsRefusedBeforeGenerating()
    {
        var tooLong = Enumerable.Repeat(65, tiny.Model.Model.Config.MaxPositionEmbeddings).ToArray();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => RunAsync(tiny.Model.Generator, SamplingParams.Greedy, tooLong));

        Assert.Contains("context window", error.Message);
    }
}
