using System.Text.Json;

namespace ChatBlazor.Testing;

/// <summary>Latency summaries for the benchmark classes (Category=Bench), kept in .data/bench/FILE.json by name.</summary>
public static class BenchResults
{
    public sealed record Summary(int Count, double? PerSecond, double P50Ms, double P90Ms, double P99Ms, double MaxMs);

    public static Summary Summarize(IList<double> latencies, TimeSpan? elapsed = null)
    {
        var sorted = latencies.Order().ToArray();
        double At(double q) => Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)], 3);
        return new(sorted.Length, elapsed is { } e ? Math.Round(sorted.Length / e.TotalSeconds) : null, At(0.5), At(0.9), At(0.99), At(1));
    }

    public static void Save(string file, string name, object value)
    {
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(TestServices.RepositoryRoot(), ".data", "bench")).FullName, file);
        var all = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path))! : [];
        all[name] = JsonSerializer.SerializeToElement(value);
        File.WriteAllText(path, JsonSerializer.Serialize(all, new JsonSerializerOptions { WriteIndented = true }));
    }
}
