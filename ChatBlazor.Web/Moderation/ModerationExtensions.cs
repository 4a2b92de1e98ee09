using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using ChatBlazor.Inference.Moderation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatBlazor.Web.Moderation;

public static class ModerationExtensions
{
    /// <summary>
    /// The moderation policy and its settings, synchronized across instances: the built-in rules (personal data,
    /// secrets, jailbreak phrasings) with admins' copies laid over them, compiled by the rule detector, and our
    /// classifier (loaded on first use: about a second and the 90 MB encoder); the after-completion check of chat
    /// replies, a Hangfire job enqueued as each reply settles.
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
        builder.Services.AddSingleton<OutputCheck>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IUsageMeter, OutputCheckMeter>());
    }
}
