using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatBlazor.Testing;

namespace ChatBlazor.Web.Tests.Telemetry;

/// <summary>
/// docker/observability: the Prometheus configuration and alert rules pass promtool (Debian's <c>prometheus</c>
/// package), the alerts' unit tests pass, and every metric the alerts and the Grafana dashboard use is one the README
/// documents.
/// </summary>
public partial class ObservabilityFilesTests
{
    private static readonly string Folder = Path.Combine(TestServices.RepositoryRoot(), "docker", "observability");

    private static async Task<string> PromtoolAsync(params string[] arguments)
    {
        var binary = Environment.GetEnvironmentVariable("CHATBLAZOR_PROMTOOL") ?? "/usr/bin/promtool";
        Assert.True(File.Exists(binary), $"promtool is not installed at {binary}: apt-get install prometheus (./test.sh does).");
        var start = new ProcessStartInfo(binary) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var all = await output + await errors;
        Assert.True(process.ExitCode == 0, $"promtool {string.Join(' ', arguments)} failed:\n{all}");
        return all;
    }

    [Fact]
    public async Task ThePrometheusConfigurationIsValid() =>
        Assert.Contains("SUCCESS", await PromtoolAsync("check", "config", "prometheus.yml"));

    [Fact]
    public async Task TheAlertRulesAreValid() =>
        Assert.Contains("SUCCESS: 9 rules found", await PromtoolAsync("check", "rules", "alerts.yml"));

    [Fact]
    public async Task TheAlertsFireOnTheirUnitTestsSeries() =>
        Assert.Contains("SUCCESS", await PromtoolAsync("test", "rules", "alerts.test.yml"));

    [Fact]
    public void EveryMetricTheAlertsAndTheDashboardUseIsDocumented()
    {
        var readme = File.ReadAllText(Path.Combine(TestServices.RepositoryRoot(), "README.md"));
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "grafana-dashboard.json")));
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!)
            .Append(File.ReadAllText(Path.Combine(Folder, "alerts.yml")));

        var used = expressions.SelectMany(e => OurMetric().Matches(e).Select(m => m.Groups[1].Value)).ToHashSet();

        Assert.True(used.Count >= 20, $"only {used.Count} metrics found in the dashboard and alerts");
        Assert.Empty(used.Where(name => !readme.Contains($"`{name}`", StringComparison.Ordinal)).Order());
    }

    // A series name of ours, without the histogram's suffixes: the README names the histogram.
    [GeneratedRegex(@"\b(chatblazor_[a-z_]+?)(?:_bucket|_count|_sum)?\b")]
    private static partial Regex OurMetric();
}
