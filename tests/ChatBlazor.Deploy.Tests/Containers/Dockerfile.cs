using System.Text.RegularExpressions;

namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>The instructions of a Dockerfile under docker/, continuation lines joined; the last stage on its own.</summary>
internal sealed partial class Dockerfile
{
    public Dockerfile(string relativePath)
    {
        Path = relativePath;
        var joined = ContinuationPattern().Replace(File.ReadAllText(Repository.PathOf(relativePath)), " ");
        Instructions = [.. joined.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(' ', 2) is var parts ? new Instruction(parts[0].ToUpperInvariant(), parts.Length > 1 ? parts[1].Trim() : "") : default!)];
    }

    public string Path { get; }

    public IReadOnlyList<Instruction> Instructions { get; }

    /// <summary>What the image runs with: the instructions after the last FROM.</summary>
    public IReadOnlyList<Instruction> FinalStage => [.. Instructions.Skip(Instructions.ToList().FindLastIndex(i => i.Keyword == "FROM") + 1)];

    public IEnumerable<string> All(string keyword) => Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);

    public string? LastInFinalStage(string keyword) => FinalStage.LastOrDefault(i => i.Keyword == keyword)?.Arguments;

    /// <summary>The default of <c>ARG name=value</c> before the first FROM.</summary>
    public string? ArgDefault(string name) => Instructions.TakeWhile(i => i.Keyword != "FROM")
        .Where(i => i.Keyword == "ARG" && i.Arguments.StartsWith(name + "=", StringComparison.Ordinal))
        .Select(i => i.Arguments[(name.Length + 1)..]).FirstOrDefault();

    public sealed record Instruction(string Keyword, string Arguments);

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex ContinuationPattern();
}
