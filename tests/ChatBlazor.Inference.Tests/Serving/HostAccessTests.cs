using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Http;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>The host's API key, its ops address and https, over real HTTP on loopback.</summary>
public class HostAccessTests
{
    private const string Key = "k3y-for-the-host-0123456789abcdef";
    private const string Chat = """{"model":"scripted","messages":[{"role":"user","content":"Hi"}]}""";

    private static HttpRequestMessage Post(string path, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(Chat, System.Text.Encoding.UTF8, "application/json") };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    [Theory]
    [InlineData(null, "needs an API key")]
    [InlineData("not-the-key-0123456789abcdef", "not the one")]
    [InlineData(Key + "x", "not the one")]
    public async Task ACompletionWithoutTheRightKeyIs401WithAnOpenAiErrorAndABearerChallenge(string? token, string message)
    {
        var engine = new ScriptedEngine();
        await using var host = await TestHost.StartAsync(engine, access: new HostAccess(Key));

        using var response = await host.Client.SendAsync(Post("v1/chat/completions", token));
        var error = (await TestHost.JsonAsync(response)).GetProperty("error");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.False(engine.Received.IsCompleted);
    }

    [Theory]
    [InlineData("v1/models")]
    [InlineData("status")]
    public async Task EveryOtherEndpointWantsTheKeyToo(string path)
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), access: new HostAccess(Key));

        using var refused = await host.Client.GetAsync(path);
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new("Bearer", Key) } };
        using var answered = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    [Fact]
    public async Task TheRightKeyRunsTheCompletion()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), access: new HostAccess(Key));

        using var response = await host.Client.SendAsync(Post("v1/chat/completions", Key));
        var body = await TestHost.JsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello, world!", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task HealthStaysOpenOnTheMainAddress()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), access: new HostAccess(Key));

        using var response = await host.Client.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RemoteEngineWithTheKeyInItsClientStreamsAReply()
    {
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), access: new HostAccess(Key));
        host.Client.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        var remote = await RemoteEngine.ConnectAsync(host.Client);
        var text = "";

        await foreach (var chunk in remote.GenerateAsync(new CompletionRequest(ScriptedEngine.ModelName, new SamplingParams(), Messages: [new ChatMessage("user", "Hi")])))
            text += chunk.Text;

        Assert.Equal("Hello, world!", text);
    }

    [Fact]
    public async Task TheOpsAddressServesHealthAndMetricsWithoutTheKeyAndNothingElse()
    {
        var engine = new ScriptedEngine();
        await using var host = await TestHost.StartAsync(engine, access: new HostAccess(Key, OpsUrls: "http://127.0.0.1:0"));
        using var ops = new HttpClient { BaseAddress = host.OpsAddress };

        using var health = await ops.GetAsync("health");
        using var metrics = await ops.GetAsync("metrics");
        using var models = await ops.GetAsync("v1/models");
        using var status = await ops.GetAsync("status");
        using var completion = await ops.SendAsync(Post("v1/chat/completions", Key)); // even with the key
        using var main = await host.Client.GetAsync("v1/models");

        Assert.NotEqual(host.Address.Port, host.OpsAddress!.Port);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("# TYPE", await metrics.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, models.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, completion.StatusCode);
        Assert.False(engine.Received.IsCompleted);
        Assert.Equal(HttpStatusCode.Unauthorized, main.StatusCode);
    }

    [Fact]
    public void MetricsOnTheMainAddressAdmitACallerPresentingTheKey()
    {
        var access = new HostAccess(Key);
        static HttpContext With(string? authorization)
        {
            var http = new DefaultHttpContext();
            if (authorization is not null)
                http.Request.Headers.Authorization = authorization;
            return http;
        }

        Assert.True(access.Presents(With($"Bearer {Key}")));
        Assert.True(access.Presents(With($"bearer {Key}")));
        Assert.False(access.Presents(With(null)));
        Assert.False(access.Presents(With(Key)));
        Assert.False(access.Presents(With($"Basic {Key}")));
        Assert.False(access.Presents(With($"Bearer {Key[..^1]}")));
        Assert.False(new HostAccess().Presents(With($"Bearer {Key}"))); // no key: nothing to present, metrics stay with the networks
    }

    [Fact]
    public void TheKeyIsNeverPrinted() =>
        Assert.DoesNotContain(Key, new HostAccess(Key, "http://127.0.0.1:9000").ToString());

    [Fact]
    public async Task HttpsServesCompletionsWithTheGivenCertificateToAClientThatTrustsIt()
    {
        using var certificate = SelfSigned();
        await using var host = await TestHost.StartAsync(new ScriptedEngine(), access: new HostAccess(Key, Certificate: certificate), urls: "https://127.0.0.1:0");
        using var trusting = new HttpClient(Trusting(certificate)) { BaseAddress = host.Address };
        using var untrusting = new HttpClient { BaseAddress = host.Address };

        using var response = await trusting.SendAsync(Post("v1/chat/completions", Key));

        Assert.Equal("https", host.Address.Scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("health"));
    }

    /// <summary>A certificate for 127.0.0.1, as <c>openssl req -x509</c> makes one, with its key.</summary>
    internal static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=inference-host.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Through PEM, as serve reads it: an ephemeral key, the case Kestrel must handle on Linux.
        return X509Certificate2.CreateFromPem(made.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static SocketsHttpHandler Trusting(X509Certificate2 certificate) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { X509CertificateLoader.LoadCertificate(certificate.RawData) },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        },
    };
}
