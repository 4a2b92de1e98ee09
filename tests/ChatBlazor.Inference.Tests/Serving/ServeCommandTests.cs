using ChatBlazor.Inference.Cli;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The <c>serve</c> command's arguments: what it accepts, and that a bad one is a usage error naming it.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly string _modelDir = Directory.CreateTempSubdirectory("serve-args-").FullName;

    public void Dispose() => Directory.Delete(_modelDir, recursive: true);

    private static ServeCommand.Settings Parse(params string[] argv) => ServeCommand.Parse(new Args(argv));

    [Fact]
    public void ModelsUrlsAndLimitsAreRead()
    {
        var other = Directory.CreateDirectory(Path.Combine(_modelDir, "other")).FullName;

        var settings = Parse("--model", $"tiny={_modelDir}", "--model", $"qwen2.5-0.5b={other}", "--urls", "http://127.0.0.1:8000",
            "--max-running", "4", "--max-queued", "0");

        Assert.Equal([new("tiny", _modelDir), new("qwen2.5-0.5b", other)], settings.Models);
        Assert.Equal("http://127.0.0.1:8000", settings.Urls);
        Assert.Equal((4, 0), (settings.Options.MaxRunningSequences, settings.Options.MaxQueuedRequests));
        Assert.Empty(settings.MetricsNetworks);
    }

    [Fact]
    public void MetricsNetworksAreReadFromCommaSeparatedOrRepeatedOptions()
    {
        var settings = Parse("--model", $"tiny={_modelDir}", "--urls", "http://127.0.0.1:8000", "--metrics-allow", "10.0.0.0/8,192.168.1.0/24", "--metrics-allow", "fd00::/8");

        Assert.Equal(["10.0.0.0/8", "192.168.1.0/24", "fd00::/8"], settings.MetricsNetworks.Select(n => n.ToString()));
    }

    [Fact]
    public void LimitsDefaultToTheEnginesDefaults()
    {
        var settings = Parse("--model", $"tiny={_modelDir}", "--urls", "http://0.0.0.0:0");

        Assert.Equal(new EngineOptions(), settings.Options);
    }

    [Theory]
    [InlineData("--model", "the model")]
    [InlineData("--urls", "--urls")]
    [InlineData("--model", "tiny")]
    [InlineData("--model", "=DIR")]
    [InlineData("--model", "tiny=")]
    [InlineData("--model", "has space=DIR")]
    [InlineData("--model", "tiny=/no/such/directory")]
    [InlineData("--urls", "https://127.0.0.1:8443")]
    [InlineData("--urls", "127.0.0.1:8000")]
    [InlineData("--urls", "http://127.0.0.1:8000/v1")]
    [InlineData("--max-running", "0")]
    [InlineData("--max-running", "lots")]
    [InlineData("--max-queued", "-1")]
    [InlineData("--metrics-allow", "10.0.0.0/33")]
    [InlineData("--metrics-allow", "prometheus.internal")]
    public void ABadArgumentIsAUsageErrorNamingIt(string option, string value)
    {
        var argv = new Dictionary<string, string> { ["--model"] = $"tiny={_modelDir}", ["--urls"] = "http://127.0.0.1:8000" };
        if (value == "the model" || value == "--urls")
            argv.Remove(option); // a required option left out
        else
            argv[option] = value.Replace("DIR", _modelDir, StringComparison.Ordinal);

        var error = Assert.Throws<UsageException>(() => Parse([.. argv.SelectMany(a => new[] { a.Key, a.Value })]));

        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void AModelNameGivenTwiceIsAUsageError()
    {
        var error = Assert.Throws<UsageException>(() => Parse("--model", $"tiny={_modelDir}", "--model", $"tiny={_modelDir}", "--urls", "http://127.0.0.1:1"));

        Assert.Contains("tiny", error.Message);
    }
}
