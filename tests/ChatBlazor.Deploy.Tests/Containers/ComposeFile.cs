using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>
/// docker/compose.yaml as Compose reads it: merge keys (<c>&lt;&lt;: *web</c>) applied, values untouched (no
/// interpolation: the tests check the <c>${...}</c> references themselves).
/// </summary>
internal sealed partial class ComposeFile
{
    public static string Folder => Repository.PathOf("docker");

    public static string Text { get; } = File.ReadAllText(Path.Combine(Folder, "compose.yaml"));

    public static ComposeFile Instance { get; } = new(Text);

    public ComposeFile(string yaml)
    {
        using var reader = new StringReader(yaml);
        Root = (Dictionary<object, object>)new DeserializerBuilder().Build().Deserialize(new MergingParser(new Parser(reader)))!;
    }

    public Dictionary<object, object> Root { get; }

    public IReadOnlyDictionary<string, Dictionary<object, object>> Services =>
        Map(Root, "services").ToDictionary(kv => (string)kv.Key, kv => (Dictionary<object, object>)kv.Value);

    public IReadOnlyCollection<string> TopLevelNames(string section) => [.. Map(Root, section).Keys.Cast<string>()];

    /// <summary>The services of <paramref name="service"/>'s depends_on with their condition (short form: service_started).</summary>
    public static IReadOnlyDictionary<string, string> DependsOn(Dictionary<object, object> service) => service.GetValueOrDefault("depends_on") switch
    {
        null => new Dictionary<string, string>(),
        List<object> names => names.Cast<string>().ToDictionary(n => n, _ => "service_started"),
        Dictionary<object, object> map => map.ToDictionary(kv => (string)kv.Key,
            kv => (string?)((Dictionary<object, object>)kv.Value).GetValueOrDefault("condition") ?? "service_started"),
        var other => throw new InvalidDataException($"depends_on of an unknown shape: {other}"),
    };

    /// <summary>The environment as a map, whichever form it is written in.</summary>
    public static IReadOnlyDictionary<string, string> Environment(Dictionary<object, object> service) => service.GetValueOrDefault("environment") switch
    {
        null => new Dictionary<string, string>(),
        List<object> pairs => pairs.Cast<string>().Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
        Dictionary<object, object> map => map.ToDictionary(kv => (string)kv.Key, kv => kv.Value?.ToString() ?? ""),
        var other => throw new InvalidDataException($"environment of an unknown shape: {other}"),
    };

    /// <summary>The names of a short or long list (volumes: source, secrets/configs: source, or the plain string).</summary>
    public static IEnumerable<string> Sources(Dictionary<object, object> service, string key) =>
        ((List<object>?)service.GetValueOrDefault(key) ?? []).Select(entry => entry switch
        {
            string s => key == "volumes" ? s.Split(':')[0] : s,
            Dictionary<object, object> m => (string)m["source"],
            _ => throw new InvalidDataException($"{key} entry of an unknown shape: {entry}"),
        });

    public static IEnumerable<string> Strings(Dictionary<object, object> service, string key) =>
        ((List<object>?)service.GetValueOrDefault(key) ?? []).Cast<string>();

    /// <summary>Every <c>${NAME}</c>, <c>${NAME:-default}</c>, <c>${NAME:?message}</c> in the text (<c>$$</c> escapes excluded).</summary>
    public static IReadOnlyCollection<Interpolation> Interpolations(string text) =>
        [.. InterpolationPattern().Matches(text).Select(m => new Interpolation(m.Groups["name"].Value, m.Groups["op"].Value))];

    public sealed record Interpolation(string Name, string Operator)
    {
        public bool Required => Operator.StartsWith(":?", StringComparison.Ordinal) || Operator.StartsWith('?');
    }

    private static Dictionary<object, object> Map(Dictionary<object, object> parent, string key) =>
        (Dictionary<object, object>?)parent.GetValueOrDefault(key) ?? [];

    [GeneratedRegex(@"(?<!\$)\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<op>:?[-?+][^}]*)?\}")]
    private static partial Regex InterpolationPattern();
}
