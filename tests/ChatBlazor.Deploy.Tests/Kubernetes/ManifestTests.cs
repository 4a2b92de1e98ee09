using System.Text;
using System.Text.RegularExpressions;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>deploy/k8s renders, validates and keeps secrets out of the repository; YAML under deploy/ and docker/ is strict.</summary>
[Collection(RenderedOverlays.Collection)]
public class ManifestTests(RenderedOverlays overlays)
{
    public static TheoryData<string> Overlays => [.. RenderedOverlays.Names];

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryOverlayRendersTheWholeApplicationAndEveryObjectMatchesItsSchema(string name)
    {
        // Rendering and the schema check happen in the fixture; here: nothing the application needs went missing.
        var overlay = overlays[name];
        foreach (var (kind, objectName) in new[]
                 {
                     ("Deployment", "chatblazor-web"), ("Deployment", "chatblazor-inference"), ("Job", "chatblazor-migrate"),
                     ("Service", "chatblazor-web"), ("Service", "chatblazor-inference"), ("Ingress", "chatblazor-web"),
                     ("HorizontalPodAutoscaler", "chatblazor-web"), ("PodDisruptionBudget", "chatblazor-web"),
                     ("PodDisruptionBudget", "chatblazor-inference"), ("NetworkPolicy", "default-deny"),
                 })
            overlay.Get(kind, objectName);
        overlay.Generated("ConfigMap", "chatblazor-web");
        overlay.Generated("Secret", "chatblazor-app");
        overlay.Generated("Secret", "chatblazor-inference");
        Assert.All(overlay.Objects.Where(o => (string?)o["kind"] != "Namespace"),
            o => Assert.Equal(overlay.Namespace, (string?)o["metadata"]!["namespace"]));
    }

    [Fact]
    public void TheBaseRendersAndValidatesOnItsOwn()
    {
        var rendered = Tools.Kustomize(Repository.PathOf("deploy/k8s/base"));
        Assert.True(rendered.ExitCode == 0, rendered.Errors);
        var validated = Tools.ValidateObjects(rendered.Output);
        Assert.True(validated.ExitCode == 0, validated.Errors);
    }

    [Fact]
    public void AnOverlayWithoutItsSecretFilesRefusesToRenderAndNamesTheMissingFile()
    {
        // The fixture's copy has prod's secret files; a fresh copy of the repository's has none.
        var copy = Directory.CreateTempSubdirectory("chatblazor-k8s-nosecrets-");
        try
        {
            RenderedOverlays.CopyFolder(Repository.PathOf("deploy/k8s"), copy.FullName);

            var rendered = Tools.Kustomize(Path.Combine(copy.FullName, "overlays", "prod"));

            Assert.NotEqual(0, rendered.ExitCode);
            Assert.Contains("secrets/postgres-connection", rendered.Errors);
            Assert.Empty(rendered.Output);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheSchemaCheckRefusesAWrongTypeAMisspeltFieldAndAnUnknownKind()
    {
        const string broken = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: broken }
            spec:
              selector: { matchLabels: { app: x } }
              template:
                metadata: { labels: { app: x } }
                spec:
                  containers:
                    - name: x
                      image: x:1
                      ports: [{ containerPort: "eighty" }]
                      livenessprobe: { httpGet: { path: /health/live, port: 8080 } }
                      resources: { limits: { nvidia.com/gpu: "1" } }
            ---
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: { name: unknown }
            """;
        var result = Tools.ValidateObjects(broken);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Deployment/broken: /spec/template/spec/containers/0/ports/0/containerPort must be integer", result.Errors);
        Assert.Contains("Deployment/broken: unknown field /spec/template/spec/containers/0/livenessprobe", result.Errors);
        Assert.DoesNotContain("nvidia.com", result.Errors); // resource names are a map's keys, not fields
        Assert.Contains("ServiceMonitor/unknown: no schema", result.Errors);
    }

    [Fact]
    public void EveryYamlFileUnderDeployAndDockerIsStrictYaml()
    {
        var files = new[] { "deploy", "docker" }
            .Select(Repository.PathOf)
            .Where(Directory.Exists)
            .SelectMany(dir => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Intersect(["secrets", "node_modules"]).Any())
            .ToList();
        Assert.Contains(files, f => f.EndsWith("deploy/k8s/base/kustomization.yaml", StringComparison.Ordinal));

        var lint = Tools.Lint(files);

        Assert.True(lint.ExitCode == 0, lint.Output + lint.Errors);
    }

    [Fact]
    public void TheYamlBlocksOfTheKubernetesReadmeAreStrictYaml()
    {
        // The scrape job and the adapter rule are copied from there into other configurations.
        var readme = File.ReadAllText(Repository.PathOf("deploy/k8s/README.md"));
        var blocks = Regex.Matches(readme, "```yaml\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, blocks.Count);
        var dir = Directory.CreateTempSubdirectory("chatblazor-readme-");
        try
        {
            var files = blocks.Select((block, i) => Path.Combine(dir.FullName, $"block{i}.yaml")).ToList();
            for (var i = 0; i < blocks.Count; i++)
                File.WriteAllText(files[i], blocks[i]);

            var lint = Tools.Lint(files);

            Assert.True(lint.ExitCode == 0, lint.Output + lint.Errors);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheYamlLintRefusesDuplicateKeysAndValuesThatYaml11ReadsDifferently()
    {
        var dir = Directory.CreateTempSubdirectory("chatblazor-lint-");
        try
        {
            var duplicate = Path.Combine(dir.FullName, "duplicate.yaml");
            File.WriteAllText(duplicate, "metadata:\n  name: a\n  name: b\n");
            var yaml11 = Path.Combine(dir.FullName, "yaml11.yaml");
            File.WriteAllText(yaml11, "enabled: yes\nmode: 0644\nquoted: \"yes\"\n");

            var lint = Tools.Lint([duplicate, yaml11]);

            Assert.Equal(1, lint.ExitCode);
            Assert.Contains("duplicate.yaml: Map keys must be unique", lint.Output);
            Assert.Contains("yaml11.yaml:1: \"yes\"", lint.Output);
            Assert.Contains("yaml11.yaml:2: \"0644\"", lint.Output);
            Assert.DoesNotContain("yaml11.yaml:3", lint.Output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EverySecretValueInTheOutputWasWrittenAtDeployTimeAndNoneIsInTheRepository(string name)
    {
        var overlay = overlays[name];
        var committed = new[] { "deploy", "docker" }.Select(Repository.PathOf).Where(Directory.Exists)
            .SelectMany(dir => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Contains("secrets"))
            .Select(File.ReadAllText).ToList();

        var values = overlay.OfKind("Secret")
            .SelectMany(s => (s["data"]?.AsObject() ?? []).Select(kv => (Secret: (string)s["metadata"]!["name"]!, kv.Key,
                Value: Encoding.UTF8.GetString(Convert.FromBase64String(((string)kv.Value!).Replace("\n", ""))))))
            .Concat(overlay.OfKind("Secret").SelectMany(s => (s["stringData"]?.AsObject() ?? [])
                .Select(kv => (Secret: (string)s["metadata"]!["name"]!, kv.Key, Value: (string)kv.Value!))))
            .ToList();

        Assert.NotEmpty(values);
        Assert.All(values, v =>
        {
            Assert.True(overlay.SecretValuesWritten.Contains(v.Value), $"{v.Secret}/{v.Key} does not come from a secret file written at deploy time");
            Assert.DoesNotContain(committed, text => text.Contains(v.Value, StringComparison.Ordinal));
        });
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void SecretSettingsReachThePodsOnlyThroughSecrets(string name)
    {
        var overlay = overlays[name];
        string[] secretSettings = ["ConnectionStrings__Postgres", "Redis__Configuration", "Logging__UserIdKey", "Inference__Hosts__0__ApiKey",
            "Stripe__SecretKey", "Stripe__WebhookSecret", "CHATBLAZOR_ADMIN_PASSWORD", "POSTGRES_PASSWORD", "REDIS_PASSWORD"];

        var configKeys = overlay.OfKind("ConfigMap").SelectMany(c => c["data"]?.AsObject().Select(kv => kv.Key) ?? []);
        Assert.Empty(configKeys.Intersect(secretSettings));
        foreach (var (workload, template) in overlay.Workloads())
            foreach (var env in Overlay.Containers(template).SelectMany(c => c["env"]?.AsArray() ?? []))
                if (secretSettings.Contains((string?)env!["name"]))
                    Assert.True(env["valueFrom"]?["secretKeyRef"] is not null, $"{workload["metadata"]!["name"]}: {env["name"]} is not read from a Secret");
    }

    [Fact]
    public void TheDevSecretScriptGivesTheAppTheSamePasswordsAsTheDevDatabases()
    {
        var secrets = Path.Combine(overlays.Copy, "overlays", "dev", "secrets");
        string Read(string file) => File.ReadAllText(Path.Combine(secrets, file));

        Assert.Matches(@"^[0-9a-f]{64}\z", Read("postgres-password")); // the value alone: no newline
        Assert.Contains("Password=" + Read("postgres-password"), Read("postgres-connection"));
        Assert.Contains("password=" + Read("redis-password"), Read("redis-configuration"));
        Assert.NotEqual(Read("postgres-password"), Read("redis-password"));
        // A second run would change the passwords under the databases' feet: it refuses.
        var again = Tools.Run(Tools.Require("bash"), [Path.Combine(overlays.Copy, "overlays", "dev", "generate-secrets.sh")]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("exists", again.Errors);
    }
}
