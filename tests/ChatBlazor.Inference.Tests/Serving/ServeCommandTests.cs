using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Inference.Cli;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The <c>serve</c> command's arguments: what it accepts, and that a bad one is a usage error naming it.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly string _modelDir = Directory.CreateTempSubdirectory("serve-args-").FullName;

    public void Dispose() => Directory.Delete(_modelDir, recursive: true);

    private static ServeCommand.Settings Parse(params string[] argv) => ServeCommand.Parse(new Args(argv));

    private string[] Minimal => ["--model", $"tiny={_modelDir}", "--urls", "http://127.0.0.1:8000"];

    private string File(string name, string text)
    {
        var path = Path.Combine(_modelDir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void AModelsWeightTypeComesFromItsSuffixElseFromDtypeElseAsStored()
    {
        var other = Directory.CreateDirectory(Path.Combine(_modelDir, "other")).FullName;
        var colon = Directory.CreateDirectory(Path.Combine(_modelDir, "a:q8")).FullName; // a folder whose name has a colon

        var plain = Parse("--model", $"tiny={_modelDir}:q8", "--model", $"other={other}", "--urls", "http://127.0.0.1:8000");
        var withDtype = Parse("--model", $"tiny={_modelDir}:F32", "--model", $"other={other}", "--model", $"c={colon}",
            "--dtype", "bf16", "--urls", "http://127.0.0.1:8000");

        Assert.Equal([new("tiny", _modelDir, WeightType.Q8), new("other", other, WeightType.Stored)], plain.Models);
        Assert.Equal([new("tiny", _modelDir, WeightType.F32), new("other", other, WeightType.Bf16), new("c", colon, WeightType.Bf16)], withDtype.Models);
    }

    [Theory]
    [InlineData("{0}:q4", "--model tiny: unknown weight type 'q4': use f32, bf16 or q8")]
    [InlineData("{0}:stored", "--model tiny: unknown weight type 'stored'")]
    public void AnUnknownWeightTypeIsAUsageErrorNamingTheChoices(string spec, string message)
    {
        var error = Assert.Throws<UsageException>(() => Parse("--model", "tiny=" + string.Format(spec, _modelDir), "--urls", "http://127.0.0.1:8000"));

        Assert.Contains(message, error.Message);
    }

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
        Assert.Equal(new HostAccess(), settings.Access); // no key, no ops address, no certificate
    }

    [Fact]
    public void TheKeyIsReadFromTheFileWithoutItsNewlineAndTheFileWinsOverTheEnvironment()
    {
        var file = File("key", "from-the-file-0123456789\n");

        var fromFile = ServeCommand.Parse(new Args([.. Minimal, "--api-key-file", file]), environmentKey: "from-the-environment-0123");
        var fromEnvironment = ServeCommand.Parse(new Args(Minimal), environmentKey: "from-the-environment-0123");

        Assert.Equal("from-the-file-0123456789", fromFile.Access.ApiKey);
        Assert.Equal("from-the-environment-0123", fromEnvironment.Access.ApiKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("has a space in the middle of it")]
    public void AnEmptyShortOrUnsendableKeyIsAUsageErrorNamingWhereItCameFrom(string key)
    {
        var file = File("key", key);

        var fromFile = Assert.Throws<UsageException>(() => Parse([.. Minimal, "--api-key-file", file]));
        var fromEnvironment = Assert.Throws<UsageException>(() => ServeCommand.Parse(new Args(Minimal), environmentKey: key));

        Assert.Contains("--api-key-file", fromFile.Message);
        Assert.Contains(HostAccess.ApiKeyVariable, fromEnvironment.Message);
        if (key.Length > 0)
            Assert.DoesNotContain(key, fromFile.Message); // a key, even a bad one, is not printed
    }

    [Fact]
    public void AMissingKeyFileIsAUsageError() =>
        Assert.Contains("--api-key-file", Assert.Throws<UsageException>(() => Parse([.. Minimal, "--api-key-file", Path.Combine(_modelDir, "none")])).Message);

    [Fact]
    public void OpsUrlsAndTlsAreRead()
    {
        using var certificate = HostAccessTests.SelfSigned();
        var cert = File("cert.pem", certificate.ExportCertificatePem());
        var key = File("key.pem", certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var settings = Parse("--model", $"tiny={_modelDir}", "--urls", "https://0.0.0.0:8443", "--ops-urls", "http://10.0.0.5:9000",
            "--tls-cert", cert, "--tls-key", key);

        Assert.Equal("http://10.0.0.5:9000", settings.Access.OpsUrls);
        Assert.Equal(certificate.Thumbprint, settings.Access.Certificate!.Thumbprint);
        Assert.True(settings.Access.Certificate.HasPrivateKey);
    }

    [Fact]
    public void TlsWithoutAnHttpsAddressOrHalfOfItIsAUsageError()
    {
        using var certificate = HostAccessTests.SelfSigned();
        var cert = File("cert.pem", certificate.ExportCertificatePem());
        var key = File("key.pem", certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        Assert.Contains("--tls-cert", Assert.Throws<UsageException>(() => Parse([.. Minimal, "--tls-cert", cert, "--tls-key", key])).Message);
        Assert.Contains("--tls-key", Assert.Throws<UsageException>(() => Parse("--model", $"tiny={_modelDir}", "--urls", "https://127.0.0.1:8443", "--tls-cert", cert)).Message);
        Assert.Contains("--tls-cert", Assert.Throws<UsageException>(() => Parse("--model", $"tiny={_modelDir}", "--urls", "https://127.0.0.1:8443", "--tls-cert", key, "--tls-key", key)).Message);
        Assert.Contains("--urls", Assert.Throws<UsageException>(() => Parse([.. Minimal, "--ops-urls", "https://127.0.0.1:9443"])).Message);
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
    [InlineData("--ops-urls", "127.0.0.1:9000")]
    [InlineData("--ops-urls", "http://127.0.0.1:9000/metrics")]
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
