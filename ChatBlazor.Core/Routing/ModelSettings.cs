using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// What an admin decided about one model, stored so every instance applies it: whether it is offered, to which plans,
/// and, for a model added at run time, where it lives (a folder loaded in process or a remote host). A model without
/// a row is enabled for the plans its configuration allows.
/// </summary>
public sealed class ModelSetting
{
    public required string Name { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>Plans that may use it; empty: the configuration's <c>Plans:&lt;Name&gt;:Models</c> rule decides.</summary>
    public List<string> Plans { get; set; } = [];
    /// <summary>A Hugging Face folder on the server, for an in-process model added at run time.</summary>
    public string? Folder { get; set; }
    /// <summary>The base URL of a remote host, for a model added at run time.</summary>
    public string? HostUrl { get; set; }
    /// <summary>The remote model's context window (a folder's comes from its config.json).</summary>
    public int? ContextWindow { get; set; }
    /// <summary>An in-process model an admin unloaded: its memory is freed and it serves nothing until loaded again.</summary>
    public bool Unloaded { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public bool AddedAtRunTime => Folder is not null || HostUrl is not null;
}

/// <summary>The one row of routing settings: the default model and the ordered rules of the <c>auto</c> model (JSON).</summary>
public sealed class RoutingSettings
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    public string? DefaultModel { get; set; }
    public string RulesJson { get; set; } = "[]";
    public DateTimeOffset UpdatedAt { get; set; }

    // Topics as words, so the column reads like the console's editor.
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public IReadOnlyList<RoutingRule> Rules() => JsonSerializer.Deserialize<List<RoutingRule>>(RulesJson, Json) ?? [];

    public static string Serialize(IReadOnlyList<RoutingRule> rules) => JsonSerializer.Serialize(rules, Json);
}

/// <summary>Everything an instance needs to offer and route models, read from the database as one consistent whole.</summary>
public sealed record ModelSettingsSnapshot(IReadOnlyDictionary<string, ModelSetting> Models, string? DefaultModel, IReadOnlyList<RoutingRule> Rules)
{
    public static readonly ModelSettingsSnapshot Empty = new(new Dictionary<string, ModelSetting>(), null, []);

    public ModelSetting? For(string model) => Models.GetValueOrDefault(model);
}

internal sealed class ModelSettingConfiguration : IEntityTypeConfiguration<ModelSetting>
{
    public void Configure(EntityTypeBuilder<ModelSetting> setting)
    {
        setting.ToTable("ModelSettings");
        setting.HasKey(s => s.Name);
        setting.Property(s => s.Name).HasMaxLength(200);
        setting.Property(s => s.Folder).HasMaxLength(1000);
        setting.Property(s => s.HostUrl).HasMaxLength(1000);
        setting.Ignore(s => s.AddedAtRunTime);
    }
}

internal sealed class RoutingSettingsConfiguration : IEntityTypeConfiguration<RoutingSettings>
{
    public void Configure(EntityTypeBuilder<RoutingSettings> settings)
    {
        settings.ToTable("RoutingSettings");
        settings.Property(s => s.Id).ValueGeneratedNever();
        settings.Property(s => s.DefaultModel).HasMaxLength(200);
        settings.Property(s => s.RulesJson).HasColumnType("jsonb");
    }
}
