namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>The Dockerfiles under docker/: what their images run as, how they are probed, what their builds read.</summary>
public class ImageTests
{
    public static TheoryData<string, int> Images => new()
    {
        { "docker/web.Dockerfile", 8080 },
        { "docker/inference.Dockerfile", 9000 },
        { "docker/stripe-emulator.Dockerfile", 12111 },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void TheImageRunsAsANonRootNumericUserWithAHealthcheckOnItsOwnPort(string path, int probedPort)
    {
        var dockerfile = new Dockerfile(path);

        var user = dockerfile.LastInFinalStage("USER");
        Assert.NotNull(user);
        var uid = user.Split(':')[0];
        // Numeric, so that an orchestrator can tell it is not root without the image's /etc/passwd.
        Assert.True(int.TryParse(uid, out var id) && id > 0, $"{path}: USER {user} is not a numeric non-root user");

        var healthcheck = dockerfile.LastInFinalStage("HEALTHCHECK");
        Assert.NotNull(healthcheck);
        Assert.Contains($"\"http-probe.sh\", \"{probedPort}\"", healthcheck);
        Assert.Contains(probedPort.ToString(), dockerfile.LastInFinalStage("EXPOSE") ?? "");
        // The probe the HEALTHCHECK names is copied into the image.
        Assert.Contains(dockerfile.FinalStage, i => i.Keyword == "COPY" && i.Arguments == "docker/http-probe.sh /usr/local/bin/http-probe.sh");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void TheBaseImagesAreBuildArgumentsDefaultingToMicrosoftsImagesOfTheVersionsThisRepositoryPins(string path, int _)
    {
        var dockerfile = new Dockerfile(path);
        var sdk = File.ReadAllText(Repository.PathOf("global.json"));

        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0.401", dockerfile.ArgDefault("SDK_IMAGE"));
        Assert.Contains("\"10.0.401\"", sdk);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0.12", dockerfile.ArgDefault("RUNTIME_IMAGE"));
        Assert.Contains("Version=\"10.0.12\"", File.ReadAllText(Repository.PathOf("Directory.Packages.props")));
        Assert.Equal("${SDK_IMAGE} AS build", dockerfile.All("FROM").First());
    }

    [Fact]
    public void TheWebImageServesOn8080AndTakesAnOperatorCommandSuchAsMigrateAsItsCommand()
    {
        var dockerfile = new Dockerfile("docker/web.Dockerfile");

        Assert.Contains("ASPNETCORE_HTTP_PORTS=8080", dockerfile.LastInFinalStage("ENV"));
        // An ENTRYPOINT without CMD: `docker run IMAGE migrate` runs `dotnet ChatBlazor.Web.dll migrate`.
        Assert.Equal("[\"dotnet\", \"/app/ChatBlazor.Web.dll\"]", dockerfile.LastInFinalStage("ENTRYPOINT"));
        Assert.Null(dockerfile.LastInFinalStage("CMD"));
    }

    [Fact]
    public void TheInferenceImageServesTheBakedModelWithItsKeyFromTheSecretFileAndItsOpsPortAndBuildsEitherBackend()
    {
        var dockerfile = new Dockerfile("docker/inference.Dockerfile");

        var command = dockerfile.LastInFinalStage("CMD")!;
        Assert.Contains("\"--api-key-file\", \"/run/secrets/inference-api-key\"", command);
        Assert.Contains("\"--urls\", \"http://0.0.0.0:8000\"", command);
        Assert.Contains("\"--ops-urls\", \"http://0.0.0.0:9000\"", command);
        Assert.Contains("\"chatblazor-mini=/models/chatblazor-mini\"", command);
        Assert.Contains(dockerfile.FinalStage, i => i.Keyword == "COPY" && i.Arguments == "--from=build /models /models");

        Assert.Equal("cpu", dockerfile.ArgDefault("TORCH_BACKEND"));
        Assert.Contains(dockerfile.All("RUN"), run => run.Contains("dotnet publish") && run.Contains("-p:TorchBackend=${TORCH_BACKEND}"));
        // The backend is a build property of the project, with these two values.
        var csproj = File.ReadAllText(Repository.PathOf("ChatBlazor.Inference/ChatBlazor.Inference.csproj"));
        Assert.Contains("'$(TorchBackend)' == 'cpu'", csproj);
        Assert.Contains("'$(TorchBackend)' == 'cuda'", csproj);
    }

    [Fact]
    public void TheBuildContextLeavesOutBuildOutputsLocalDataAndSecretsButNotWhatTheImagesCopy()
    {
        var ignored = File.ReadAllLines(Repository.PathOf(".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.Contains(".data/", ignored);
        Assert.Contains(".git/", ignored);
        Assert.Contains("docker/.env", ignored);
        Assert.Contains("docker/certs/", ignored);

        // What the Dockerfiles and the projects they publish read from the context: none of it may be left out.
        string[] needed = ["docker/http-probe.sh", "models/chatblazor-mini/config.json", "docs/user-guide.md", "ChatBlazor.StripeEmulator/test-mode-catalog.json"];
        foreach (var path in needed)
        {
            Assert.True(File.Exists(Repository.PathOf(path)), $"{path} is missing");
            Assert.DoesNotContain(ignored, pattern => path.StartsWith(pattern.TrimStart('/'), StringComparison.Ordinal) || pattern == path);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void TheProbeScriptIsExecutable()
    {
        var mode = File.GetUnixFileMode(Repository.PathOf("docker/http-probe.sh"));
        Assert.True(mode.HasFlag(UnixFileMode.OtherExecute), "docker/http-probe.sh must be executable by any user (the images run as uid 10001)");
    }
}
