namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>docker/.env.example names what docker/compose.yaml reads, and holds no secret.</summary>
public class EnvExampleTests
{
    private static readonly IReadOnlyDictionary<string, string> Example = File.ReadAllLines(Path.Combine(ComposeFile.Folder, ".env.example"))
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

    private static readonly IReadOnlyCollection<ComposeFile.Interpolation> Used = ComposeFile.Interpolations(ComposeFile.Text);

    [Fact]
    public void EveryVariableTheComposeFileReadsIsInTheExampleAndEveryExampleVariableIsRead()
    {
        var used = Used.Select(i => i.Name).ToHashSet();
        // A secret's environment source names a variable without ${}.
        used.UnionWith(((Dictionary<object, object>)ComposeFile.Instance.Root["secrets"]).Values
            .Cast<Dictionary<object, object>>().Select(s => s.GetValueOrDefault("environment")).OfType<string>());

        Assert.True(used.Count >= 10, "the compose file reads hardly any variable: has its shape changed?");
        Assert.Empty(used.Except(Example.Keys));
        Assert.Empty(Example.Keys.Except(used));
    }

    [Fact]
    public void EveryVariableComposeRefusesToStartWithoutIsInTheExample()
    {
        var required = Used.Where(i => i.Required).Select(i => i.Name).ToHashSet();
        Assert.Contains("POSTGRES_PASSWORD", required);
        Assert.Contains("INFERENCE_API_KEY", required);
        foreach (var name in required)
            Assert.True(Example.ContainsKey(name), $"{name} is required but not in the example");
    }

    [Fact]
    public void TheExampleHoldsNoSecretOnlyPlaceholdersOrNothing()
    {
        var secrets = Example.Where(kv => kv.Key.Contains("PASSWORD") || kv.Key.Contains("SECRET") || kv.Key.EndsWith("_KEY", StringComparison.Ordinal)).ToList();
        Assert.True(secrets.Count >= 6, $"only {secrets.Count} secret settings found in the example");
        Assert.All(secrets, kv => Assert.True(kv.Value.Length == 0 || kv.Value.StartsWith("change-me", StringComparison.Ordinal),
            $"{kv.Key} in docker/.env.example has a value: write change-me (or nothing) there"));
    }

    [Fact]
    public void TheFilledInEnvFileIsIgnoredByGit()
    {
        var ignored = File.ReadAllLines(Repository.PathOf(".gitignore")).Select(l => l.Trim()).ToList();
        Assert.Contains("docker/.env", ignored);
        Assert.Contains("docker/certs/", ignored);
    }
}
