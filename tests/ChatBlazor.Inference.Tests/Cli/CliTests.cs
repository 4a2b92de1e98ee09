using System.Diagnostics;
using System.Text.Json;
using ChatBlazor.Inference.Tests.Generation;
using ChatBlazor.Inference.Tests.Models;

namespace ChatBlazor.Inference.Tests.Cli;

/// <summary>The command-line face, run as a separate process exactly as benchmarks and scripts run it.</summary>
public class CliTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ChatBlazor.Inference.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }

    [Fact]
    public void LogitsPrintsTheReferenceTopFiveForTheLastPosition()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenModelTests.FixturePath("tiny-qwen2-bias"), "expected.json"))).RootElement.GetProperty("cases")[0];
        var prompt = string.Join(",", expected.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()));

        var (exit, output, _) = Run("logits", "--model", GoldenModelTests.FixturePath("tiny-qwen2-bias"), "--tokens", prompt, "--top", "5");

        Assert.Equal(0, exit);
        var top = JsonDocument.Parse(output).RootElement.GetProperty("top").EnumerateArray().ToArray();
        var step = expected.GetProperty("steps")[0];
        Assert.Equal(step.GetProperty("top5_ids").EnumerateArray().Select(e => e.GetInt32()), top.Select(t => t.GetProperty("id").GetInt32()));
        Assert.All(top.Zip(step.GetProperty("top5_logits").EnumerateArray()), pair =>
            Assert.Equal(pair.Second.GetDouble(), pair.First.GetProperty("logit").GetDouble(), 3));
    }

    [Fact]
    public void GenerateJsonReportsTokensTextAndTimings()
    {
        var (exit, output, error) = Run("generate", "--model", tiny.Directory, "--chat", "Hi there", "--max-tokens", "6", "--ignore-eos", "--json");

        Assert.True(exit == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(6, json.GetProperty("tokens").GetArrayLength());
        Assert.Equal(6, json.GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", json.GetProperty("finish_reason").GetString());
        Assert.Equal(tiny.Model.EncodeChat([new("user", "Hi there")]).Count, json.GetProperty("prompt_tokens").GetInt32());
        Assert.True(json.GetProperty("ttft_ms").GetDouble() > 0);
        Assert.True(json.GetProperty("decode_tokens_per_s").GetDouble() > 0);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("logits", "--tokens", "1,2")]
    [InlineData("logits", "--model", "x", "--tokens", "1,zwei")]
    [InlineData("generate", "--model", "x")]
    [InlineData("bench", "--model", "x", "--dtype", "q4")]
    [InlineData("generate", "--model", "x", "--tokens", "1", "--dtype", "int8")]
    public void BadArgumentsExitWithCode2(params string[] args)
    {
        var (exit, _, error) = Run(args);

        Assert.Equal(2, exit);
        Assert.StartsWith("error:", error);
    }

    [Fact]
    public void AgreementComparesAWeightTypeWithTheWeightsAsStored()
    {
        var (exit, output, error) = Run("agreement", "--model", GoldenModelTests.FixturePath("tiny-f32"), "--dtype", "q8", "--new-tokens", "8");

        Assert.True(exit == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("q8", json.GetProperty("dtype").GetString());
        Assert.Equal(8, json.GetProperty("steps").GetInt32());
        Assert.InRange(json.GetProperty("top1_agreement").GetDouble(), 0, 1);
        // 8 bits change the logits, a little (WeightTypeAccuracyTests bounds how much).
        Assert.InRange(json.GetProperty("max_logit_difference").GetDouble(), 1e-6, 0.10 * json.GetProperty("largest_logit").GetDouble());
    }

    [Fact]
    public void AMissingModelFolderExitsWithCode1AndNamesIt()
    {
        var (exit, _, error) = Run("logits", "--model", "/nonexistent/model", "--tokens", "1,2");

        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/model", error);
    }

    [Fact]
    public void BenchReportsSpeedAndPeakMemoryAsJson()
    {
        var (exit, output, error) = Run("bench", "--model", tiny.Directory, "--prompt-tokens", "16", "--new-tokens", "8", "--threads", "1");

        Assert.True(exit == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        foreach (var field in new[] { "prefill_tokens_per_s", "decode_tokens_per_s", "ttft_ms", "peak_rss_mb" })
            Assert.True(json.GetProperty(field).GetDouble() > 0, field);
    }
}
