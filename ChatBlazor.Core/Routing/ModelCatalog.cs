using ChatBlazor.Core.Data;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Replies;
using ChatBlazor.Inference.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// The admins' model settings as this instance applies them: which models are offered, to which plans, the default,
/// and the <c>auto</c> rules. Read from PostgreSQL at start, again whenever any instance announces a change on Redis
/// (<see cref="AnnounceAsync"/>), and periodically in case an announcement was missed (<see cref="SharedSettingsSync{TSettings}"/>).
/// </summary>
public sealed class ModelCatalog(
    IDbContextFactory<AppDbContext> dbFactory, IConnectionMultiplexer redis, IOptions<ReplyOptions> replyOptions,
    IEnumerable<IModelHosting> hosting, ILogger<ModelCatalog> log) : ISharedSettings
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly IModelHosting[] _hosting = [.. hosting];
    private volatile ModelSettingsSnapshot _current = ModelSettingsSnapshot.Empty;

    /// <summary>The Redis channel of change announcements, under the app's key prefix so apps sharing a Redis do not hear each other.</summary>
    public RedisChannel Channel { get; } = RedisChannel.Literal($"{replyOptions.Value.KeyPrefix}models:changed");

    public string Name => "model settings";

    public ModelSettingsSnapshot Current => _current;

    /// <summary>Raised (on a background thread) after the settings were reloaded: pages showing models refresh.</summary>
    public event Action? Changed;

    public bool IsEnabled(string model) => _current.For(model)?.Enabled ?? true;

    /// <summary>
    /// Whether <paramref name="plan"/> may use <paramref name="model"/>: enabled, and either in the plans an admin chose
    /// or, when none were chosen, allowed by the plan's configured model list.
    /// </summary>
    public bool Allows(Plan plan, string model) => _current.For(model) switch
    {
        { Enabled: false } => false,
        { Plans.Count: > 0 } setting => setting.Plans.Contains(plan.Name, StringComparer.OrdinalIgnoreCase),
        _ => plan.Allows(model),
    };

    /// <summary>
    /// Routes an <c>auto</c> request with the current rules among <paramref name="served"/> models: a candidate must be
    /// served, enabled and allowed for the plan, fit the prompt, and be healthy and within its rule's queue limit.
    /// </summary>
    public RouteDecision Route(Plan plan, string text, int promptTokens, IReadOnlyList<ModelInfo> served, IModelStates? states)
    {
        var settings = _current;
        var windows = served.ToDictionary(m => m.Name, m => m.ContextWindow, StringComparer.Ordinal);
        return AutoRouter.Route(settings.Rules, new RoutingInput(plan.Name, text, promptTokens),
            name => windows.TryGetValue(name, out var window) && IsEnabled(name) ? new RouteTarget(Allows(plan, name), window, states?.StateOf(name)) : null,
            settings.DefaultModel == AutoRouter.Model ? null : settings.DefaultModel);
    }

    /// <summary>Reads the settings and applies them here. Serialized: a reload asked for during one runs after it.</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _reloading.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var models = await db.ModelSettings.AsNoTracking().ToDictionaryAsync(m => m.Name, StringComparer.Ordinal, ct);
            var routing = await db.RoutingSettings.AsNoTracking().SingleOrDefaultAsync(ct);
            var snapshot = new ModelSettingsSnapshot(models, routing?.DefaultModel, routing?.Rules() ?? []);
            foreach (var host in _hosting)
                await host.ApplyAsync(snapshot, ct);
            _current = snapshot;
        }
        finally
        {
            _reloading.Release();
        }
        Changed?.Invoke();
    }

    /// <summary>Tells every instance (this one included) to reload. A lost message is caught by the periodic reload.</summary>
    public async Task AnnounceAsync()
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, "changed");
        }
        catch (RedisException e)
        {
            log.LogWarning(e, "Model settings changed but Redis could not announce it; other instances pick it up at their next periodic reload");
        }
    }
}
