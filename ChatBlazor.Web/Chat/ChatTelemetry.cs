using System.Diagnostics;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// The chat page's spans (activity source <see cref="Name"/>). A circuit has no HTTP request to hang a trace on, so a
/// user's send starts one here; the pipeline, the reply job (through Redis, to whichever worker), the engine host and
/// the database continue it.
/// </summary>
public static class ChatTelemetry
{
    public const string Name = "ChatBlazor.Web.Chat";

    public static readonly ActivitySource Source = new(Name);
}
