namespace ChatBlazor.Core.Routing;

/// <summary>
/// A model's live state as its engine reports it: loaded or not, healthy (its host answers), sequences running and
/// waiting, KV cache use (0 to 1), and tokens/s and time to first token over the engine's recent window (null when it
/// served nothing lately).
/// </summary>
public sealed record ModelState(
    string Model, bool Loaded, bool Healthy, int Running, int Waiting, double? KvCacheUsage, double? TokensPerSecond, double? TimeToFirstTokenMs,
    DateTimeOffset CheckedAt, string? Error = null);

/// <summary>The latest live state of each model, kept fresh in the background so routing never waits on a host.</summary>
public interface IModelStates
{
    /// <summary>Null when the model's state is not known (yet): routing then treats it as healthy.</summary>
    ModelState? StateOf(string model);
}

/// <summary>
/// Where the models added at run time come and go: the web host implements it with the embedded engine and remote
/// clients (Core loads no model itself).
/// </summary>
public interface IModelHosting
{
    /// <summary>Brings the served models in line with <paramref name="settings"/>: connects added hosts, loads or unloads folders.</summary>
    Task ApplyAsync(ModelSettingsSnapshot settings, CancellationToken ct);
}
