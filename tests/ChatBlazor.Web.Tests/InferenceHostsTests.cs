using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Web.Inference;
using ChatBlazor.Web.Tests.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests;

/// <summary>
/// The app's clients of inference hosts, from configuration, against real hosts (<c>serve</c>'s own
/// <see cref="OpenAiHost"/>) on loopback: the key each host wants, https with a pinned certificate, and replicas.
/// </summary>
public sealed class InferenceHostsTests : IAsyncDisposable
{
    private const string Key = "web-to-host-key-0123456789abcdef";
    private const string Model = "shared-model";
    private readonly List<IAsyncDisposable> _running = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("inference-hosts-").FullName;

    /// <summary>A test double for the engine behind a host: answers with its name, or fails as told, and counts requests.</summary>
    private sealed class EngineDouble(string name, Exception? failure = null, bool failAfterFirstChunk = false) : IInferenceEngine
    {
        public int Requests;

        public IReadOnlyList<ModelInfo> Models { get; } = [new(Model, 4096)];

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Requests);
            await Task.Yield();
            if (failure is not null && !failAfterFirstChunk)
                throw failure;
            yield return new GenerationChunk(name, []);
            if (failure is not null)
                throw failure;
            yield return new GenerationChunk("", [], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(2, 1));
        }
    }

    private async Task<string> StartHostAsync(IInferenceEngine engine, HostAccess? access = null, string urls = "http://127.0.0.1:0")
    {
        var app = OpenAiHost.Build(engine, new EngineMetrics(), urls, logging => { }, access: access);
        await app.StartAsync();
        _running.Add(app);
        return app.Urls.First();
    }

    /// <summary>The web app's inference wiring with these hosts (index → settings under Inference:Hosts:index), no folder.</summary>
    private static WebApplication Web(params Dictionary<string, string>[] hosts)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration["Inference:InProcess"] = "false";
        for (var i = 0; i < hosts.Length; i++)
            foreach (var (key, value) in hosts[i])
                builder.Configuration[$"Inference:Hosts:{i}:{key}"] = value;
        builder.AddInference();
        return builder.Build();
    }

    private static Dictionary<string, string> Host(string url, string? key = null, string? name = null, string? certificateFile = null)
    {
        var host = new Dictionary<string, string> { ["Url"] = url, ["Models:0"] = Model };
        if (key is not null)
            host["ApiKey"] = key;
        if (name is not null)
            host["Name"] = name;
        if (certificateFile is not null)
            host["CertificateFile"] = certificateFile;
        return host;
    }

    private static async Task<string> AnswerAsync(WebApplication web)
    {
        var text = "";
        await foreach (var chunk in web.Services.GetRequiredService<IInferenceEngine>().GenerateAsync(new CompletionRequest(Model, SamplingParams.Greedy, Messages: [new("user", "Hi")])))
            text += chunk.Text;
        return text;
    }

    private static string ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: a connection is refused
        return $"http://127.0.0.1:{port}";
    }

    [Fact]
    public async Task TheHostsKeyIsSentAsABearerTokenAndWithoutItTheHostRefuses()
    {
        var url = await StartHostAsync(new EngineDouble("a"), new HostAccess(Key));
        await using var withKey = Web(Host(url, Key));
        await using var withoutKey = Web(Host(url));

        Assert.Equal("a", await AnswerAsync(withKey));
        Assert.Contains("API key", (await Assert.ThrowsAsync<EngineUnavailableException>(() => AnswerAsync(withoutKey))).Message);
    }

    [Fact]
    public async Task TheHealthCheckAsksTheHostWithItsKey()
    {
        var url = await StartHostAsync(new EngineDouble("a"), new HostAccess(Key));
        await using var web = Web(Host(url, Key, name: "gpu-a"));
        var check = new ChatBlazor.Web.Health.InferenceHostsHealthCheck(web.Services.GetRequiredService<ModelHosting>(), TimeProvider.System);

        var result = await check.CheckHealthAsync(new());

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, result.Status);
        Assert.Equal(["inference host gpu-a"], result.Data.Keys);
    }

    [Fact]
    public async Task AnHttpsHostIsTrustedThroughItsCertificateFileOnly()
    {
        using var certificate = SelfSigned();
        var file = Path.Combine(_folder, "host.pem");
        await File.WriteAllTextAsync(file, certificate.ExportCertificatePem());
        var url = await StartHostAsync(new EngineDouble("tls"), new HostAccess(Key, Certificate: certificate), "https://127.0.0.1:0");
        await using var pinned = Web(Host(url, Key, certificateFile: file));
        await using var unpinned = Web(Host(url, Key));

        Assert.StartsWith("https://", url);
        Assert.Equal("tls", await AnswerAsync(pinned));
        await Assert.ThrowsAsync<EngineUnavailableException>(() => AnswerAsync(unpinned));
    }

    [Fact]
    public async Task RequestsForAReplicatedModelTakeTheHostsInTurnAndTheModelIsListedOnce()
    {
        var (a, b) = (new EngineDouble("a"), new EngineDouble("b"));
        var (urlA, urlB) = (await StartHostAsync(a), await StartHostAsync(b));
        await using var web = Web(Host(urlA), Host(urlB, name: "gpu-b"));

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
            answers.Add(await AnswerAsync(web));

        Assert.Equal(["a", "b", "a", "b"], answers);
        Assert.Equal([Model], web.Services.GetRequiredService<IInferenceEngine>().Models.Select(m => m.Name));
        var known = Assert.Single(web.Services.GetRequiredService<ModelHosting>().Known());
        Assert.Equal($"{urlA}, gpu-b ({urlB})", known.Location);
    }

    [Fact]
    public async Task AReplicaThatRefusesConnectionsPassesItsTurnToTheNext()
    {
        var live = new EngineDouble("live");
        await using var web = Web(Host(ClosedPort()), Host(await StartHostAsync(live)));

        Assert.Equal(["live", "live"], [await AnswerAsync(web), await AnswerAsync(web)]);
        Assert.Equal(2, live.Requests);
    }

    [Fact]
    public async Task AReplicaAnswering503PassesItsTurnToTheNext()
    {
        await using var full = await ModelHostDouble.StartAsync(Model, fails: true);
        var live = new EngineDouble("live");
        await using var web = Web(Host(full.Url), Host(await StartHostAsync(live)));

        Assert.Equal(["live", "live"], [await AnswerAsync(web), await AnswerAsync(web)]);
        Assert.Equal(1, full.Completions);
        Assert.Equal(2, live.Requests);
    }

    [Fact]
    public async Task AReplicaThatFailsAfterItsFirstChunkFailsTheRequestWithoutAskingAnother()
    {
        var cut = new EngineDouble("partial", new EngineUnavailableException("lost the GPU"), failAfterFirstChunk: true);
        var live = new EngineDouble("live");
        await using var web = Web(Host(await StartHostAsync(cut)), Host(await StartHostAsync(live)));
        var received = "";

        await Assert.ThrowsAsync<EngineUnavailableException>(async () =>
        {
            await foreach (var chunk in web.Services.GetRequiredService<IInferenceEngine>().GenerateAsync(new CompletionRequest(Model, SamplingParams.Greedy, Prompt: "Hi")))
                received += chunk.Text;
        });

        Assert.Equal("partial", received);
        Assert.Equal(0, live.Requests);
    }

    [Fact]
    public void ReplicaStatesMergeIntoOneThatStaysUsableWhileAnyReplicaIs()
    {
        var now = DateTimeOffset.UtcNow;
        var up = new ModelState(Model, true, true, 2, 1, 0.5, 10, 100, now);
        var busier = new ModelState(Model, true, true, 3, 4, 0.75, 20, 300, now);
        var down = new ModelState(Model, false, false, 0, 0, null, null, null, now, "the host cannot be reached");

        var merged = ModelStates.Merge([up, busier, down]);
        var allDown = ModelStates.Merge([down, down]);

        Assert.Equal(new ModelState(Model, true, true, 5, 5, 0.75, 30, 300, now, "1 of 3 hosts: the host cannot be reached"), merged);
        Assert.False(allDown.Healthy);
        Assert.Equal("2 of 2 hosts: the host cannot be reached", allDown.Error);
    }

    [Theory]
    [InlineData("ApiKey", "short", "Inference:Hosts:0:ApiKey")]
    [InlineData("ApiKey", "has spaces in it, which a header cannot carry", "Inference:Hosts:0:ApiKey")]
    [InlineData("CertificateFile", "/no/such/file.pem", "Inference:Hosts:0:CertificateFile")]
    public async Task ABadHostSettingFailsAtStartNamingTheKeyButNotItsValue(string setting, string value, string named)
    {
        await using var web = Web(new Dictionary<string, string> { ["Url"] = "https://127.0.0.1:1", ["Models:0"] = Model, [setting] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => web.StartAsync());

        Assert.Contains(named, error.Message);
        if (setting == "ApiKey")
            Assert.DoesNotContain(value, error.Message);
    }

    [Fact]
    public async Task AModelBothInProcessAndOnAHostFailsAtStart()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration["Inference:Hosts:0:Url"] = "http://127.0.0.1:1";
        builder.Configuration["Inference:Hosts:0:Models:0"] = "chatblazor-mini"; // the folder appsettings.json names
        builder.AddInference();
        await using var web = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => web.StartAsync());

        Assert.Contains("Inference:Hosts:0:Models:0", error.Message);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=inference-host.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509Certificate2.CreateFromPem(made.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _running)
            await app.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
