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
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Inference:WeightTypes:chatblazor-mini"] = type;
        builder.AddInference();
        await using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(message, error.Message);
        Assert.Contains("f32, bf16 or q8", error.Message);
    }

    [Fact]
    public async Task AWeightTypeForAModelThatIsNotAFolderHereFailsAtStart()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Inference:WeightTypes:nowhere"] = "q8";
        builder.AddInference();
        await using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Inference:WeightTypes:nowhere names no model in Inference:Models", error.Message);
    }

    [Fact]
    public async Task AnUnknownKvCacheTypeFailsAtStartNamingTheKey()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Inference:KvCacheType"] = "f8";
        builder.AddInference();
        await using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Inference:KvCacheType", error.Message);
    }
}
