using ChatBlazor.Core.Conversations;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Replies;

public static class ReplyServices
{
    /// <summary>
    /// Conversations and chat replies as shared jobs: the store, the Redis bus, this instance's worker (a hosted
    /// service) and <see cref="ReplyJobs"/> for pages. Options from the <c>Replies</c> section, checked at start.
    /// </summary>
    public static IServiceCollection AddReplies(this IServiceCollection services)
    {
        services.AddOptions<ReplyOptions>().BindConfiguration(ReplyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ConversationStore>();
        services.AddSingleton<ReplyBus>();
        services.AddSingleton<ReplyWorker>();
        services.AddHostedService(s => s.GetRequiredService<ReplyWorker>());
        services.AddSingleton<ReplyJobs>();
        return services;
    }
}
