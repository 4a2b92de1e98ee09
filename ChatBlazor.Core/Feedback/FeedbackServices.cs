using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Core.Feedback;

public static class FeedbackServices
{
    /// <summary>The users' ratings for the admin console.</summary>
    public static IServiceCollection AddFeedback(this IServiceCollection services) => services.AddSingleton<FeedbackBrowser>();
}
