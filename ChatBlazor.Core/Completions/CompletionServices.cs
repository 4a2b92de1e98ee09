using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Completions;

public static class CompletionServices
{
    /// <summary>
    /// The completion pipeline. Needs an <c>IInferenceEngine</c>, <see cref="Limits.LimitServices.AddLimits"/> and
    /// moderation (<see cref="Moderation.ModerationServices.AddModeration"/>); usage meters (<see cref="IUsageMeter"/>)
    /// registered anywhere join it.
    /// </summary>
    public static IServiceCollection AddCompletions(this IServiceCollection services) => services.AddSingleton<CompletionPipeline>();
}
