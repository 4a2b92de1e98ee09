using System.Diagnostics;
using ChatBlazor.Testing;

namespace ChatBlazor.E2E;

/// <summary>
/// The official <c>openai</c> npm package (tests/openai-sdk, installed by ./test.sh from its lock file) against the
/// app on a real port, serving chatblazor-mini: models, completions with usage, streaming, the stream helper, and
/// the SDK's own error classes for 401 and 429.
/// </summary>
public class OpenAiSdkTests(OpenAiSdkTests.SdkApp app) : IClassFixture<OpenAiSdkTests.SdkApp>
{
    public sealed class SdkApp : BrowserApp
    {
        public SdkApp()
        {
            FreezeClock = true; // "2 requests a minute" must not meet a new minute halfway through the test
            SetPlan("Tiny", requestsPerMinute: 2, tokensPerMinute: 5000, tokensPerDay: 100_000);
        }
    }

    [Fact]
    public async Task TheOfficialNodeSdkWorksUnchanged()
    {
        var folder = Path.Combine(TestServices.RepositoryRoot(), "tests", "openai-sdk");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "openai")), "run ./test.sh, which installs tests/openai-sdk with npm ci");
        var start = new ProcessStartInfo("node", "--test --test-reporter=spec sdk.test.mjs")
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["CHATBLAZOR_API_BASE"] = app.BaseUrl.TrimEnd('/') + "/v1",
                ["CHATBLAZOR_API_KEY"] = (await app.UserWithKeyAsync()).Key,
                ["CHATBLAZOR_TINY_KEY"] = (await app.UserWithKeyAsync("Tiny")).Key,
                ["CHATBLAZOR_MODEL"] = "chatblazor-mini",
            },
        };
        using var node = Process.Start(start)!;
        var (output, errors) = (node.StandardOutput.ReadToEndAsync(), node.StandardError.ReadToEndAsync());
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(node.ExitCode == 0, await output + await errors);
        Assert.Contains("pass 7", await output);
    }
}
