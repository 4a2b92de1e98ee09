using ChatBlazor.Core.Conversations;
using MudBlazor.Services;

namespace ChatBlazor.Web.Shell;

public static class ShellExtensions
{
    public static void AddShell(this WebApplicationBuilder builder)
    {
        // Serve framework and library assets (blazor.web.js, MudBlazor) straight from a build's output in every
        // environment, not only Development; a published app has them in wwwroot and this does nothing.
        builder.WebHost.UseStaticWebAssets();
        // A message of ConversationStore.MaxMessageLength characters must reach the server in one piece: UTF-8 takes up
        // to three bytes a character and JSON escapes up to six, so 1 MiB rather than SignalR's 32 KB.
        builder.Services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(hub => hub.MaximumReceiveMessageSize = Math.Max(1L << 20, ConversationStore.MaxMessageLength * 6L + (64L << 10)));
        builder.Services.AddMudServices();
    }

    public static void UseShell(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAntiforgery();
    }

    public static void MapShell(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
