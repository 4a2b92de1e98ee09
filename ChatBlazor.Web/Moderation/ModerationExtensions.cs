using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using ChatBlazor.Inference.Moderation;

namespace ChatBlazor.Web.Moderation;

public static class ModerationExtensions
{
    /// <summary>
    /// The moderation policy and its settings, synchronized across instances: the built-in rules (personal data,
    /// secrets, jailbreak phrasings) with admins' copies laid over them, compiled by the rule detector, and our
    /// classifier (loaded on first use: about a second and the 90 MB encoder).
    /// </summary>
    public static void AddModeration(this WebApplicationBuilder builder)
    {
        foreach (var rule in ModerationRules.Defaults)
            builder.Services.AddSingleton(rule);
        builder.Services.AddSingleton<ModerationDetectorFactory>(services =>
        {
            var log = services.GetRequiredService<ILogger<RuleDetector>>();
            return rules => new RuleDetector(rules, log);
        });
        builder.Services.AddModerationClassifier();
        builder.Services.AddModeration();
    }
}
