using System.Text.Json;
using System.Text.RegularExpressions;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Routing;
using ChatBlazor.Web.Inference;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Web.Admin.Models;

/// <summary>An admin's change that cannot be made as asked; the message says why, for the console to show.</summary>
public sealed class ModelAdminException(string message) : Exception(message);

/// <summary>
/// The admin actions of <c>/admin/models</c>. Each writes its change and its audit entry in one save, reloads the
/// settings here at once (the admin sees the result) and announces the change so every other instance reloads too.
/// </summary>
public sealed partial class ModelAdmin(
    IDbContextFactory<AppDbContext> dbFactory, AuditLog audit, ModelCatalog catalog, ModelHosting hosting, PlanCatalog plans, TimeProvider clock)
{
    public const int MaxRules = 50;

    public Task SetEnabledAsync(AuditActor actor, string model, bool enabled) => ChangeAsync(actor, model, AuditActions.ModelChange, setting =>
    {
        var old = setting.Enabled;
        setting.Enabled = enabled;
        return $"enabled: {Yes(old)} → {Yes(enabled)}";
    });

    public Task SetPlansAsync(AuditActor actor, string model, IReadOnlyCollection<string> planNames)
    {
        var unknown = planNames.Where(p => !plans.Plans.ContainsKey(p)).ToArray();
        if (unknown.Length > 0)
            throw new ModelAdminException($"No such plan: {string.Join(", ", unknown)}.");
        return ChangeAsync(actor, model, AuditActions.ModelChange, setting =>
        {
            var old = PlansText(setting.Plans);
            setting.Plans = [.. planNames.Order(StringComparer.OrdinalIgnoreCase)];
            return $"plans: {old} → {PlansText(setting.Plans)}";
        });
    }

    public Task SetLoadedAsync(AuditActor actor, string model, bool loaded)
    {
        if (hosting.Known().FirstOrDefault(k => k.Name == model) is not { InProcess: true })
            throw new ModelAdminException($"'{model}' is not a model of this process: only in-process models are loaded and unloaded here.");
        return ChangeAsync(actor, model, AuditActions.ModelChange, setting =>
        {
            var old = !setting.Unloaded;
            setting.Unloaded = !loaded;
            return $"loaded: {Yes(old)} → {Yes(loaded)}";
        });
    }

    /// <summary>The model new chats start on (null: the first the plan allows); "auto" is allowed once rules exist.</summary>
    public async Task SetDefaultAsync(AuditActor actor, string? model)
    {
        if (model is not null && model != AutoRouter.Model && hosting.Known().All(k => k.Name != model))
            throw new ModelAdminException($"There is no model '{model}'.");
        await using var db = await dbFactory.CreateDbContextAsync();
        var routing = await RoutingAsync(db);
        if (model == AutoRouter.Model && routing.Rules().Count == 0)
            throw new ModelAdminException("'auto' needs at least one routing rule before it can be the default.");
        var old = routing.DefaultModel;
        routing.DefaultModel = model;
        routing.UpdatedAt = clock.GetUtcNow();
        audit.Add(db, actor, AuditActions.RoutingChange, "default model", $"{old ?? "(first allowed)"} → {model ?? "(first allowed)"}");
        await SaveAndAnnounceAsync(db);
    }

    /// <summary>Replaces the <c>auto</c> rules with <paramref name="json"/> (an array of <see cref="RoutingRule"/>), after checking them.</summary>
    public async Task SetRulesAsync(AuditActor actor, string json)
    {
        List<RoutingRule> rules;
        try
        {
            rules = JsonSerializer.Deserialize<List<RoutingRule>>(json, RuleJson) ?? [];
        }
        catch (JsonException e)
        {
            throw new ModelAdminException($"The rules are not valid JSON: {e.Message}");
        }
        var known = hosting.Known().Select(k => k.Name).ToHashSet(StringComparer.Ordinal);
        if (rules.Count > MaxRules)
            throw new ModelAdminException($"At most {MaxRules} rules.");
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var where = $"Rule {i + 1} ({(rule.Name.Length > 0 ? rule.Name : "unnamed")})";
            if (string.IsNullOrWhiteSpace(rule.Name))
                throw new ModelAdminException($"{where} needs a name.");
            if (rule.Targets.Count == 0)
                throw new ModelAdminException($"{where} needs at least one target model.");
            if (rule.Targets.FirstOrDefault(t => !known.Contains(t)) is { } unknown)
                throw new ModelAdminException($"{where} names '{unknown}', which is not a model of this app.");
            if (rule.Plans.FirstOrDefault(p => !plans.Plans.ContainsKey(p)) is { } plan)
                throw new ModelAdminException($"{where} names the plan '{plan}', which is not configured.");
            if (rule.MinPromptTokens is < 0 || rule.MaxPromptTokens is < 0 || rule.MinPromptTokens > rule.MaxPromptTokens || rule.MaxWaiting is < 0)
                throw new ModelAdminException($"{where}: prompt bounds and queue limit must be 0 or more, the minimum at most the maximum.");
        }
        await using var db = await dbFactory.CreateDbContextAsync();
        var routing = await RoutingAsync(db);
        var old = routing.Rules();
        routing.RulesJson = RoutingSettings.Serialize(rules);
        routing.UpdatedAt = clock.GetUtcNow();
        if (rules.Count == 0 && routing.DefaultModel == AutoRouter.Model)
            routing.DefaultModel = null;
        audit.Add(db, actor, AuditActions.RoutingChange, "auto rules", Clip($"{old.Count} rules → {rules.Count}: {string.Join(" | ", rules.Select(r => r.Describe()))}"));
        await SaveAndAnnounceAsync(db);
    }

    /// <summary>Adds a Hugging Face folder on this server as an in-process model (every instance loads it from the same path).</summary>
    public async Task AddFolderAsync(AuditActor actor, string name, string folder)
    {
        name = CheckNewName(name);
        folder = folder.Trim();
        if (!Path.IsPathFullyQualified(folder))
            throw new ModelAdminException("Give the folder as an absolute path on the server.");
        if (!File.Exists(Path.Combine(folder, "config.json")))
            throw new ModelAdminException($"{folder} is not a Hugging Face model folder: it has no config.json.");
        await AddAsync(actor, new ModelSetting { Name = name, Folder = folder, UpdatedAt = clock.GetUtcNow() }, $"folder {folder}");
    }

    /// <summary>Adds models served by a remote OpenAI-compatible host (our <c>serve</c> or another).</summary>
    public async Task AddHostAsync(AuditActor actor, string url, IReadOnlyList<string> models, int contextWindow)
    {
        url = url.Trim();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ModelAdminException($"The host must be an http(s) URL; '{url}' is not.");
        if (models.Count == 0)
            throw new ModelAdminException("Name at least one model served by the host.");
        if (contextWindow is < 256 or > 1_048_576)
            throw new ModelAdminException("The context window must be between 256 and 1,048,576 tokens.");
        var names = models.Select(CheckNewName).ToArray();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ModelAdminException("A model name appears twice.");
        await using var db = await dbFactory.CreateDbContextAsync();
        foreach (var name in names)
        {
            if (await db.ModelSettings.AnyAsync(s => s.Name == name))
                throw new ModelAdminException($"A model named '{name}' already exists.");
            db.ModelSettings.Add(new ModelSetting { Name = name, HostUrl = url, ContextWindow = contextWindow, UpdatedAt = clock.GetUtcNow() });
            audit.Add(db, actor, AuditActions.ModelAdd, name, $"host {url}, window {contextWindow}");
        }
        await SaveAndAnnounceAsync(db);
    }

    /// <summary>Removes a model added at run time (configured ones are removed from configuration, or disabled here).</summary>
    public async Task RemoveAsync(AuditActor actor, string model)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var setting = await db.ModelSettings.SingleOrDefaultAsync(s => s.Name == model);
        if (setting is not { AddedAtRunTime: true } || hosting.IsConfigured(model))
            throw new ModelAdminException($"'{model}' comes from configuration: disable it here, or remove it from the configuration.");
        db.ModelSettings.Remove(setting);
        var routing = await RoutingAsync(db);
        if (routing.DefaultModel == model)
            routing.DefaultModel = null;
        audit.Add(db, actor, AuditActions.ModelRemove, model, setting.Folder is { } folder ? $"folder {folder}" : $"host {setting.HostUrl}");
        await SaveAndAnnounceAsync(db);
    }

    internal static readonly JsonSerializerOptions RuleJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string RulesToJson(IReadOnlyList<RoutingRule> rules) => JsonSerializer.Serialize(rules, RuleJson);

    private async Task AddAsync(AuditActor actor, ModelSetting setting, string details)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        if (await db.ModelSettings.AnyAsync(s => s.Name == setting.Name))
            throw new ModelAdminException($"A model named '{setting.Name}' already exists.");
        db.ModelSettings.Add(setting);
        audit.Add(db, actor, AuditActions.ModelAdd, setting.Name, details);
        await SaveAndAnnounceAsync(db);
    }

    private string CheckNewName(string name)
    {
        name = name.Trim();
        if (!ModelName().IsMatch(name))
            throw new ModelAdminException($"'{name}' is not a usable model name: letters, digits, '.', '_', '-', ':' and '/', up to 100 characters.");
        if (name == AutoRouter.Model || hosting.Known().Any(k => k.Name == name))
            throw new ModelAdminException($"A model named '{name}' already exists.");
        return name;
    }

    /// <summary>Loads the model's settings row (made on first change: a model without one has the defaults), changes it, audits it.</summary>
    private async Task ChangeAsync(AuditActor actor, string model, string action, Func<ModelSetting, string> change)
    {
        if (hosting.Known().All(k => k.Name != model))
            throw new ModelAdminException($"There is no model '{model}'.");
        await using var db = await dbFactory.CreateDbContextAsync();
        var setting = await db.ModelSettings.SingleOrDefaultAsync(s => s.Name == model);
        if (setting is null)
            db.ModelSettings.Add(setting = new ModelSetting { Name = model });
        var details = change(setting);
        setting.UpdatedAt = clock.GetUtcNow();
        audit.Add(db, actor, action, model, details);
        await SaveAndAnnounceAsync(db);
    }

    private static async Task<RoutingSettings> RoutingAsync(AppDbContext db)
    {
        var routing = await db.RoutingSettings.SingleOrDefaultAsync(r => r.Id == RoutingSettings.SingletonId);
        if (routing is null)
            db.RoutingSettings.Add(routing = new RoutingSettings());
        return routing;
    }

    private async Task SaveAndAnnounceAsync(AppDbContext db)
    {
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException)
        {
            throw new ModelAdminException("Another admin changed this model at the same moment; reload and try again.");
        }
        await catalog.ReloadAsync();
        await catalog.AnnounceAsync();
    }

    private static string Yes(bool value) => value ? "yes" : "no";

    private static string PlansText(IReadOnlyCollection<string> plans) => plans.Count == 0 ? "(configuration)" : string.Join(", ", plans);

    private static string Clip(string text) => text.Length <= 2000 ? text : text[..1997] + "…";

    [GeneratedRegex(@"^[A-Za-z0-9._:/-]{1,100}$")]
    private static partial Regex ModelName();
}
