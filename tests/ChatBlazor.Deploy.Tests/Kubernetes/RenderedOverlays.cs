using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>
/// deploy/k8s copied to a temporary folder, its secret files written there as an operator would (dev: the overlay's
/// generate-secrets.sh; prod: a random value for every file its secretGenerator names), each overlay rendered with
/// <c>kubectl kustomize</c> and checked against the Kubernetes schemas. The repository's own tree is never written.
/// </summary>
public sealed class RenderedOverlays : IDisposable
{
    /// <summary>The test classes that share one rendering.</summary>
    public const string Collection = "Rendered overlays";

    public static readonly string[] Names = ["dev", "prod"];

    private readonly string _copy = Path.Combine(Path.GetTempPath(), "chatblazor-k8s-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, Overlay> _overlays = [];

    public RenderedOverlays()
    {
        CopyFolder(Repository.PathOf("deploy/k8s"), _copy);
        foreach (var name in Names)
        {
            var folder = Path.Combine(_copy, "overlays", name);
            var written = name == "dev" ? RunDevScript(folder) : WriteSecretFiles(folder);
            var rendered = Tools.Kustomize(folder);
            Assert.True(rendered.ExitCode == 0, $"kubectl kustomize overlays/{name} failed: {rendered.Errors}");
            var validated = Tools.ValidateObjects(rendered.Output);
            Assert.True(validated.ExitCode == 0, $"overlays/{name} does not validate against the Kubernetes schemas:\n{validated.Errors}");
            var objects = JsonNode.Parse(validated.Output)!.AsArray().Select(o => o!.AsObject()).ToList();
            _overlays[name] = new Overlay(name, objects, written);
        }
    }

    public Overlay this[string name] => _overlays[name];

    /// <summary>The temporary copy of deploy/k8s (tests that render it differently work in it).</summary>
    public string Copy => _copy;

    public void Dispose() => Directory.Delete(_copy, recursive: true);

    /// <summary>The files a kustomization's secretGenerator reads, relative to its folder.</summary>
    public static IEnumerable<string> SecretFiles(string overlayFolder) =>
        Tools.ReadYaml(Path.Combine(overlayFolder, "kustomization.yaml"))["secretGenerator"]?.AsArray()
            .SelectMany(g => g!["files"]?.AsArray() ?? [])
            .Select(f => f!.GetValue<string>().Split('=', 2)[^1]) ?? [];

    private static HashSet<string> RunDevScript(string folder)
    {
        var script = Tools.Run(Tools.Require("bash"), [Path.Combine(folder, "generate-secrets.sh")]);
        Assert.True(script.ExitCode == 0, "generate-secrets.sh failed: " + script.Errors);
        return [.. SecretFiles(folder).Select(f => File.ReadAllText(Path.Combine(folder, f)))];
    }

    private static HashSet<string> WriteSecretFiles(string folder)
    {
        var written = new HashSet<string>();
        foreach (var file in SecretFiles(folder))
        {
            var value = "test-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, file))!);
            File.WriteAllText(Path.Combine(folder, file), value);
            written.Add(value);
        }
        return written;
    }

    /// <summary>A copy of a folder without any secrets/ folder in it.</summary>
    public static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
            if (Path.GetFileName(dir) != "secrets") // an operator's own secrets stay where they are
                CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}

[CollectionDefinition(RenderedOverlays.Collection)]
public sealed class RenderedOverlaysCollection : ICollectionFixture<RenderedOverlays>;

/// <summary>One overlay's rendered objects, and the secret values the fixture wrote for it.</summary>
public sealed record Overlay(string Name, IReadOnlyList<JsonObject> Objects, IReadOnlySet<string> SecretValuesWritten)
{
    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => (string?)o["kind"] == kind);

    public JsonObject Get(string kind, string name) =>
        OfKind(kind).SingleOrDefault(o => (string?)o["metadata"]!["name"] == name)
        ?? throw new InvalidOperationException($"overlays/{Name} renders no {kind} named {name}");

    /// <summary>Objects that kustomize gave a hash suffix, found by the name they have in the files.</summary>
    public JsonObject Generated(string kind, string name) =>
        OfKind(kind).Single(o => ((string)o["metadata"]!["name"]!).StartsWith(name + "-", StringComparison.Ordinal));

    /// <summary>Deployments, StatefulSets and Jobs, each with its pod template.</summary>
    public IEnumerable<(JsonObject Workload, JsonObject Template)> Workloads() =>
        Objects.Where(o => (string?)o["kind"] is "Deployment" or "StatefulSet" or "Job")
            .Select(o => (o, o["spec"]!["template"]!.AsObject()));

    public JsonObject Template(string kind, string name) => Get(kind, name)["spec"]!["template"]!.AsObject();

    public static IEnumerable<JsonObject> Containers(JsonObject template) =>
        template["spec"]!["containers"]!.AsArray().Select(c => c!.AsObject());

    public string Namespace => (string)OfKind("Namespace").Single()["metadata"]!["name"]!;
}
