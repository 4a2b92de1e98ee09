using ChatBlazor.Core.Moderation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatBlazor.Web.Moderation;

public static class ModerationExtensions
{
    /// <summary>
    /// The moderation policy and its settings, synchronized across instances. The rule detector compiles the rules in
    /// force; until the host registers the full one (with its built-in kinds and default rules), the regex rules apply.
    /// </summary>
    public static void AddModeration(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<ModerationDetectorFactory>(_ => rules => new RegexRulesDetector(rules));
        builder.Services.AddModeration();
    }
}
