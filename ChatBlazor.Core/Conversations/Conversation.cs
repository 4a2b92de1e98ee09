using ChatBlazor.Core.Identity;

namespace ChatBlazor.Core.Conversations;

/// <summary>
/// One chat of one user: its settings, and its messages as a tree (edits and regenerations add siblings).
/// <see cref="CurrentLeafId"/> is the message whose path from the root the user sees.
/// </summary>
public sealed class Conversation
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string UserId { get; set; }
    public AppUser? User { get; set; }

    public string Title { get; set; } = "";
    public TitleSource TitleSource { get; set; } = TitleSource.FirstWords;
    public bool Pinned { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>Moves on every new message, so the sidebar lists the latest activity first.</summary>
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    public required string Model { get; set; }
    public ConversationSettings Settings { get; set; } = new();
    public Guid? CurrentLeafId { get; set; }

    public List<Message> Messages { get; set; } = [];
}

/// <summary>
/// Where the title came from. The first user message names the chat at once; after the first reply the model is asked
/// for a better one, which replaces it unless the user has renamed the chat meanwhile.
/// </summary>
public enum TitleSource { FirstWords, Model, User }

/// <summary>What a conversation overrides; null falls back to the model's generation_config.json.</summary>
public sealed class ConversationSettings
{
    public string? SystemPrompt { get; set; }
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? MaxTokens { get; set; }
    public List<string> Stop { get; set; } = [];
}
