using ChatBlazor.Web.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests;

/// <summary>Inference:WeightTypes and Inference:KvCacheType, checked when the app starts: no database or Redis needed to see them refused.</summary>
public class InferenceWeightTypeTests
{
    [Theory]
    [InlineData("q4", "Inference:WeightTypes:chatblazor-mini: unknown weight type 'q4'")]
    [InlineData("stored", "Inference:WeightTypes:chatblazor-mini: unknown weight type 'stored'")]
    public async Task AnUnknownWeightTypeFailsAtStartNamingTheKeyAndTheChoices(string type, string message)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithAsync("Inference:WeightTypes:chatblazor-mini", type));

        Assert.Contains(message, error.Message);
        Assert.Contains("f32, bf16 or q8", error.Message);
    }

    [Fact]
    public async Task AWeightTypeForAModelThatIsNotAFolderHereFailsAtStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithAsync("Inference:WeightTypes:nowhere", "q8"));

        Assert.Contains("Inference:WeightTypes:nowhere names no model in Inference:Models", error.Message);
    }

    [Fact]
    public async Task AnUnknownKvCacheTypeFailsAtStartNamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => StartWithAsync("Inference:KvCacheType", "f8"));

        Assert.Contains("Inference:KvCacheType", error.Message);
    }

    /// <summary>Starts the inference wiring alone with one setting added; returns only if the start succeeds.</summary>
    private static async Task StartWithAsync(string key, string value)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration[key] = value;
        builder.AddInference();
        await using var host = builder.Build();
        await host.StartAsync();
    }
}
