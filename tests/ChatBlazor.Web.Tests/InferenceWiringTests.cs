using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using ChatBlazor.Web.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests;

/// <summary>The app's one engine, built from configuration: a model folder served in-process.</summary>
public class InferenceWiringTests(InferenceWiringTests.Factory app) : IClassFixture<InferenceWiringTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public string ModelFolder { get; } = Path.Combine(Path.GetTempPath(), $"chatblazor-web-tiny-{Guid.NewGuid():N}");

        public Factory()
        {
            Assert.Equal(0, ChatBlazor.Inference.Cli.Program.Main(["init-random", "--preset", "tiny", "--out", ModelFolder]).GetAwaiter().GetResult());
            Set("Models:tiny", ModelFolder); // the top-level section, as MODELS__tiny=/path in the environment
            Set("Inference:WeightTypes:tiny", "q8");
            Set("Inference:Hosts:0:Url", "http://127.0.0.1:1");
            Set("Inference:Hosts:0:Models:0", "far-away");
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Directory.Delete(ModelFolder, recursive: true);
        }
    }

    [Fact]
    public async Task AConfiguredModelFolderIsServedInProcessBesideTheShippedModelAndTheRemoteHostsModels()
    {
        var engine = app.Services.GetRequiredService<IInferenceEngine>();
        var chunks = new List<GenerationChunk>();

        await foreach (var chunk in engine.GenerateAsync(new CompletionRequest("tiny", SamplingParams.Greedy with { MaxTokens = 3, IgnoreEos = true }, Messages: [new("user", "Hi")])))
            chunks.Add(chunk);

        Assert.Equal(["chatblazor-mini", "tiny", "far-away"], engine.Models.Select(m => m.Name));
        Assert.Equal(3, chunks[^1].Usage!.CompletionTokens);
    }

    [Fact]
    public async Task AnUnreachableHostEndsTheStreamWithAnErrorTheUiCanShow()
    {
        var engine = app.Services.GetRequiredService<IInferenceEngine>();

        var error = await Assert.ThrowsAsync<EngineUnavailableException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(new CompletionRequest("far-away", SamplingParams.Greedy, Prompt: "Hi"))) { }
        });

        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public async Task AModelFolderWithoutConfigFailsAtStartNamingTheKey()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Inference:Models:broken"] = Path.GetTempPath();
        builder.AddInference();
        await using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Inference:Models:broken", error.Message);
    }

    [Fact]
    public void AnInstanceWhoseModelsRunElsewhereLoadsNoFolderNotEvenTheShippedOne()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration["Inference:InProcess"] = "false";
        builder.Configuration["Models:extra"] = Path.GetTempPath(); // would fail validation if it were kept
        builder.AddInference();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<InferenceOptions>>().Value;

        Assert.Empty(options.Models);
        Assert.Contains("chatblazor-mini", builder.Configuration.GetSection("Inference:Models").GetChildren().Select(c => c.Key));
    }
}
