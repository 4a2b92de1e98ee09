using System.Text.RegularExpressions;

namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>docker/compose.yaml refers only to things that exist, and starts in an order that can succeed.</summary>
public partial class ComposeTests
{
    private static readonly ComposeFile Compose = ComposeFile.Instance;

    private static readonly string[] Conditions = ["service_started", "service_healthy", "service_completed_successfully"];

    [Fact]
    public void TheFleetHasEveryServiceTheIssueAsksFor()
    {
        Assert.Superset(
            new HashSet<string> { "postgres", "redis", "migrate", "web-1", "web-2", "inference", "nginx", "prometheus", "elasticsearch", "kibana", "stripe-emulator" },
            Compose.Services.Keys.ToHashSet());
    }

    [Fact]
    public void EveryDependencyIsAServiceOfTheFileThatCanMeetItsCondition()
    {
        foreach (var (name, service) in Compose.Services)
        {
            foreach (var (dependency, condition) in ComposeFile.DependsOn(service))
            {
                Assert.True(Compose.Services.ContainsKey(dependency), $"{name} depends on {dependency}, which is no service");
                Assert.Contains(condition, Conditions);
                var target = Compose.Services[dependency];
                // A service of a profile starts only when asked for: nothing that always starts may wait for it.
                Assert.False(target.ContainsKey("profiles") && !service.ContainsKey("profiles"), $"{name} depends on {dependency}, which starts only in a profile");
                if (condition == "service_healthy")
                    Assert.True(HasHealthcheck(target), $"{name} waits for {dependency} to be healthy, but {dependency} has no health check");
                if (condition == "service_completed_successfully")
                    Assert.Equal("no", (string?)target.GetValueOrDefault("restart") ?? "no");
            }
        }
    }

    [Fact]
    public void TheWebInstancesStartAfterTheDatabasesAndASuccessfulMigrationAndNginxAfterThem()
    {
        foreach (var web in new[] { "web-1", "web-2" })
        {
            var dependsOn = ComposeFile.DependsOn(Compose.Services[web]);
            Assert.Equal("service_healthy", dependsOn["postgres"]);
            Assert.Equal("service_healthy", dependsOn["redis"]);
            Assert.Equal("service_completed_successfully", dependsOn["migrate"]);
            Assert.Equal("service_healthy", ComposeFile.DependsOn(Compose.Services["nginx"])[web]);
        }
        Assert.Equal(new[] { "migrate" }, ((List<object>)Compose.Services["migrate"]["command"]).Cast<string>());
    }

    [Fact]
    public void EveryNamedVolumeSecretConfigAndNetworkIsDeclaredAndEveryDeclaredOneIsUsed()
    {
        var used = new Dictionary<string, HashSet<string>> { ["volumes"] = [], ["secrets"] = [], ["configs"] = [], ["networks"] = [] };
        foreach (var service in Compose.Services.Values)
        {
            // A volume source that is a path is a bind mount; a plain name is a named volume.
            used["volumes"].UnionWith(ComposeFile.Sources(service, "volumes").Where(s => !s.StartsWith('.') && !s.StartsWith('/') && !s.StartsWith('$')));
            used["secrets"].UnionWith(ComposeFile.Sources(service, "secrets"));
            used["configs"].UnionWith(ComposeFile.Sources(service, "configs"));
            used["networks"].UnionWith(ComposeFile.Strings(service, "networks"));
        }
        foreach (var (section, names) in used)
            Assert.Equal(names.Order(), Compose.TopLevelNames(section).Order());
    }

    [Fact]
    public void EveryBuildContextDockerfileAndBindMountedFileOfTheRepositoryExists()
    {
        var checkedPaths = 0;
        foreach (var (name, service) in Compose.Services)
        {
            if (service.GetValueOrDefault("build") is Dictionary<object, object> build)
            {
                var context = Path.GetFullPath(Path.Combine(ComposeFile.Folder, (string)build["context"]));
                Assert.True(File.Exists(Path.Combine(context, "ChatBlazor.sln")), $"{name}: the build context {context} is not the repository root");
                Assert.True(File.Exists(Path.Combine(context, (string)build["dockerfile"])), $"{name}: no {build["dockerfile"]}");
                checkedPaths++;
            }
            // Paths given by a variable (the TLS folder) are the operator's; the others ship with the repository.
            foreach (var source in ComposeFile.Sources(service, "volumes").Where(s => s.StartsWith('.')))
            {
                var path = Path.Combine(ComposeFile.Folder, source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{name} mounts {source}, which does not exist");
                checkedPaths++;
            }
        }
        Assert.True(checkedPaths >= 8, $"only {checkedPaths} paths were found to check: has the file's shape changed?");
    }

    [Fact]
    public void TheAppImagesRunWithAReadOnlyRootFilesystemAndAWritableTmp()
    {
        foreach (var name in new[] { "migrate", "web-1", "web-2", "inference", "stripe-emulator" })
        {
            var service = Compose.Services[name];
            Assert.True(service.GetValueOrDefault("read_only") is "true", $"{name} is not read_only");
            Assert.Contains("/tmp", ComposeFile.Strings(service, "tmpfs"));
        }
    }

    [Fact]
    public void TheInferenceHostReadsItsKeyFromTheSecretTheWebInstancesSendAndServesItsOpsPortToPrometheus()
    {
        var inference = Compose.Services["inference"];
        var command = ((List<object>)inference["command"]).Cast<string>().ToList();
        var keyFile = command[command.IndexOf("--api-key-file") + 1];
        var secret = Assert.Single(ComposeFile.Sources(inference, "secrets"));
        Assert.Equal($"/run/secrets/{secret}", keyFile);

        var secretSource = (Dictionary<object, object>)((Dictionary<object, object>)Compose.Root["secrets"])[secret];
        var keyVariable = (string)secretSource["environment"];
        foreach (var web in new[] { "web-1", "web-2" })
        {
            var environment = ComposeFile.Environment(Compose.Services[web]);
            Assert.Contains($"${{{keyVariable}", environment["Inference__Hosts__0__ApiKey"]);
            var url = new Uri(environment["Inference__Hosts__0__Url"]);
            Assert.Equal("inference", url.Host);
            Assert.Contains($"http://0.0.0.0:{url.Port}", command[command.IndexOf("--urls") + 1]);
            Assert.Equal("false", environment["Inference__InProcess"]);
        }

        var opsPort = new Uri(command[command.IndexOf("--ops-urls") + 1]).Port;
        var scrapeTargets = ScrapeTargets();
        Assert.Contains($"inference:{opsPort}", scrapeTargets);
        Assert.Contains("web-1:8080", scrapeTargets);
        Assert.Contains("web-2:8080", scrapeTargets);
        Assert.All(scrapeTargets, t => Assert.True(Compose.Services.ContainsKey(t.Split(':')[0]), $"Prometheus scrapes {t}, which is no service of the compose file"));
    }

    [Fact]
    public void NginxRendersTheLeadsTemplateWithEveryVariableItUsesAndSendsToEveryWebInstance()
    {
        var nginx = Compose.Services["nginx"];
        var template = Assert.Single(ComposeFile.Strings(nginx, "volumes"), v => v.Contains("/etc/nginx/templates/"));
        var source = Path.Combine(ComposeFile.Folder, template.Split(':')[0]);
        Assert.True(File.Exists(source), $"{source} (the NGINX template) is missing");

        var environment = ComposeFile.Environment(nginx);
        var used = ComposeFile.Interpolations(File.ReadAllText(source)).Select(i => i.Name).ToHashSet();
        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.True(environment.ContainsKey(name), $"the template uses ${{{name}}}, which the nginx service does not set"));
        // The image's envsubst must leave NGINX's own $variables alone: only our names pass its filter.
        Assert.All(used, name => Assert.Matches(environment["NGINX_ENVSUBST_FILTER"], name));
        Assert.DoesNotMatch(environment["NGINX_ENVSUBST_FILTER"], "host");

        var servers = ServerPattern().Matches(environment["CHATBLAZOR_WEB_SERVERS"]).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(new[] { "web-1:8080", "web-2:8080" }, servers);
    }

    private static bool HasHealthcheck(Dictionary<object, object> service)
    {
        if (service.GetValueOrDefault("healthcheck") is Dictionary<object, object> healthcheck)
            return healthcheck.GetValueOrDefault("disable") is not "true" && healthcheck.ContainsKey("test");
        // Otherwise the image's own HEALTHCHECK: only our images are known here.
        return service.GetValueOrDefault("build") is Dictionary<object, object> build
            && new Dockerfile((string)build["dockerfile"]).LastInFinalStage("HEALTHCHECK") is not null;
    }

    private static List<string> ScrapeTargets() =>
        [.. TargetPattern().Matches(File.ReadAllText(Path.Combine(ComposeFile.Folder, "observability", "prometheus.yml")))
            .SelectMany(m => m.Groups[1].Value.Split(',')).Select(t => t.Trim().Trim('\'', '"'))];

    [GeneratedRegex(@"server\s+(\S+:\d+)")]
    private static partial Regex ServerPattern();

    [GeneratedRegex(@"targets:\s*\[([^\]]*)\]")]
    private static partial Regex TargetPattern();
}
