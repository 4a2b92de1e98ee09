using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>The real tools the checks run: kubectl (kustomize), node with tests/deploy-validate, bash.</summary>
internal static class Tools
{
    public static string ValidateFolder => Repository.PathOf("tests/deploy-validate");

    /// <summary>The tool's full path on <paramref name="searchPath"/> (PATH by default), or a failure that says what to install.</summary>
    public static string Require(string tool, string? searchPath = null)
    {
        foreach (var dir in (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(tool switch
        {
            "kubectl" => "kubectl not found on PATH: these checks render deploy/k8s with `kubectl kustomize`, offline. Install kubectl (any version with kustomize 5).",
            "node" => "node not found on PATH: the schema and YAML checks run tests/deploy-validate/validate.mjs. Install nodejs and npm (./test.sh does).",
            _ => $"{tool} not found on PATH.",
        });
    }

    public static Result Kustomize(string folder) => Run(Require("kubectl"), ["kustomize", folder]);

    /// <summary><c>validate.mjs objects</c>: the rendered objects, each checked against its Kubernetes schema.</summary>
    public static Result ValidateObjects(string renderedYaml) => Node(["objects"], renderedYaml);

    public static Result Lint(IEnumerable<string> files) => Node(["lint", .. files]);

    public static JsonNode ReadYaml(string file)
    {
        var result = Node(["json", file]);
        Assert.True(result.ExitCode == 0, $"{file} does not parse: {result.Errors}");
        return JsonNode.Parse(result.Output)!;
    }

    public static Result Run(string file, IEnumerable<string> arguments, string? input = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var (output, errors) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        // A guard against a hung tool, not a measure of speed: these run in a second or two.
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish");
        }
        return new Result(process.ExitCode, output.Result, errors.Result);
    }

    private static Result Node(IEnumerable<string> arguments, string? input = null)
    {
        var node = Require("node");
        Assert.True(Directory.Exists(Path.Combine(ValidateFolder, "node_modules", "kubernetes-models")),
            "tests/deploy-validate has no node_modules: run ./test.sh, which installs it with npm ci");
        return Run(node, ["validate.mjs", .. arguments], input, ValidateFolder);
    }

    public sealed record Result(int ExitCode, string Output, string Errors);
}
