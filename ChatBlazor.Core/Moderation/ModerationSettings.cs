using ChatBlazor.Core.Data;
using ChatBlazor.Core.Replies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Core.Moderation;

/// <summary>Compiles the rules in force into the detector that runs them (the rule detector, given at start).</summary>
public delegate IModerationDetector ModerationDetectorFactory(IReadOnlyList<ModerationRule> rules);

/// <summary>One rule as the console lists it: the rule in force, and whether it is built in and whether an admin changed it.</summary>
public sealed record ModerationRuleView(ModerationRule Rule, bool BuiltIn, string? UpdatedBy, DateTimeOffset? UpdatedAt)
{
    public bool Changed => UpdatedBy is not null;
}

/// <summary>Everything the decision needs, read from the database as one consistent whole and compiled.</summary>
public sealed record ModerationSnapshot(
    IReadOnlyList<ModerationRuleView> Rules, IModerationDetector Detector, IReadOnlyDictionary<string, ModerationPolicy> Policies,
    ModerationSettingsRecord Settings)
{
    public ModerationPolicy PolicyFor(string category) => Policies.GetValueOrDefault(category) ?? ModerationPolicyDefaults.For(category);
}

/// <summary>
/// The moderation rules, policies and settings as this instance applies them: the built-in rules with the admins'
/// copies laid over them, compiled into a detector. Read at start, again whenever any instance announces a change
/// on Redis (<see cref="AnnounceAsync"/>), and every <see cref="SharedSettingsSync{TSettings}.Period"/> in case an
/// announcement was missed: the same scheme as the model settings (<see cref="Routing.ModelCatalog"/>).
/// </summary>
public sealed class ModerationSettings(
    IDbContextFactory<AppDbContext> dbFactory, IConnectionMultiplexer redis, IOptions<ReplyOptions> replyOptions,
    IEnumerable<ModerationRule> defaultRules, ModerationDetectorFactory detectorFactory, ILogger<ModerationSettings> log) : ISharedSettings
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly ModerationRule[] _defaults = [.. defaultRules];
    private volatile ModerationSnapshot? _current;

    /// <summary>The Redis channel of change announcements, under the app's key prefix so apps sharing a Redis do not hear each other.</summary>
    public RedisChannel Channel { get; } = RedisChannel.Literal($"{replyOptions.Value.KeyPrefix}moderation:changed");

    public string Name => "moderation settings";

    public IReadOnlyList<ModerationRule> Defaults => _defaults;

    /// <summary>Until the first reload (before the app serves): the built-in rules and policies.</summary>
    public ModerationSnapshot Current => _current ??= Compile([], [], new ModerationSettingsRecord());

    /// <summary>Raised (on a background thread) after a reload: the console's pages refresh.</summary>
    public event Action? Changed;

    /// <summary>Reads and compiles the settings. Serialized: a reload asked for during one runs after it.</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _reloading.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var rules = await db.ModerationRules.AsNoTracking().ToListAsync(ct);
            var policies = await db.ModerationPolicies.AsNoTracking().ToListAsync(ct);
            var settings = await db.ModerationSettings.AsNoTracking().SingleOrDefaultAsync(ct) ?? new ModerationSettingsRecord();
            _current = Compile(rules, policies, settings);
        }
        finally
        {
            _reloading.Release();
        }
        Changed?.Invoke();
    }

    /// <summary>The built-in rules with the admins' copies laid over them by id, then the admins' own rules, by id.</summary>
    public IReadOnlyList<ModerationRuleView> Merge(IReadOnlyList<ModerationRuleRecord> records)
    {
        var byId = records.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var builtIn = _defaults.Select(d => byId.TryGetValue(d.Id, out var r)
            ? new ModerationRuleView(r.ToRule(), true, r.UpdatedBy, r.UpdatedAt)
            : new ModerationRuleView(d, true, null, null));
        var defaultIds = _defaults.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var own = records.Where(r => !defaultIds.Contains(r.Id)).OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => new ModerationRuleView(r.ToRule(), false, r.UpdatedBy, r.UpdatedAt));
        return [.. builtIn, .. own];
    }

    private ModerationSnapshot Compile(IReadOnlyList<ModerationRuleRecord> rules, IReadOnlyList<ModerationPolicyRecord> policies, ModerationSettingsRecord settings)
    {
        var views = Merge(rules);
        var detector = detectorFactory([.. views.Select(v => v.Rule).Where(r => r.Enabled)]);
        var compiled = ModerationPolicyDefaults.All.Values.ToDictionary(p => p.Category, StringComparer.Ordinal);
        foreach (var p in policies)
            compiled[p.Category] = new ModerationPolicy(p.Category, p.Action, p.ClassifierAction, p.Threshold);
        return new ModerationSnapshot(views, detector, compiled, settings);
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
            log.LogWarning(e, "Moderation settings changed but Redis could not announce it; other instances pick it up at their next periodic reload");
        }
    }
}
