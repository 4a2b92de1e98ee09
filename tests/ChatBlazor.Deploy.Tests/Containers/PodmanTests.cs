using System.Diagnostics;

namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>
/// The images themselves, built and run with Debian's podman from base images made on this machine
/// (scripts/container-check.sh). Minutes of work that would compete with every other test for two cores: ./test.sh
/// runs this category on its own, after the others.
/// </summary>
public class PodmanTests
{
    [Fact]
    [Trait("Category", "Containers")]
    public async Task BothImagesBuildAndRunReadOnlyAsNonRootWithTheirHealthChecksAndTheInferenceKey()
    {
        var start = new ProcessStartInfo("bash", [Repository.PathOf("scripts/container-check.sh")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repository.Root,
        };
        using var process = Process.Start(start)!;
        var (output, errors) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        // A guard against a hung build, not a measure: the check takes 8 to 15 minutes on two cores.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        await process.WaitForExitAsync(limit.Token);

        Assert.True(process.ExitCode == 0, $"scripts/container-check.sh exited with {process.ExitCode}:\n{await output}\n{await errors}");
        Assert.Contains("container check passed", await errors);
    }
}
