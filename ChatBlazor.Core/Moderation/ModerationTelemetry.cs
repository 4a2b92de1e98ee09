using System.Diagnostics.Metrics;

namespace ChatBlazor.Core.Moderation;

/// <summary>
/// Moderation's meter (<see cref="Name"/>): the flags it records, by category (one of <see cref="ModerationCategories"/>
/// or "none"), action (flag, review, block) and direction (input, output). No user or text in any label.
/// </summary>
public static class ModerationTelemetry
{
    public const string Name = "ChatBlazor.Moderation";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Flags = Meter.CreateCounter<long>("chatblazor.moderation.flags", "{flag}", "Moderation flags recorded, by category, action and direction.");

    internal static void Flagged(string? category, ModerationAction action, ModerationDirection direction) => Flags.Add(1,
        new("category", category ?? "none"), new("action", action.ToString().ToLowerInvariant()), new("direction", direction.ToString().ToLowerInvariant()));
}
