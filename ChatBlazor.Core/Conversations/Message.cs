namespace ChatBlazor.Core.Conversations;

public enum MessageRole { User, Assistant }

/// <summary>A user message is always <see cref="Complete"/>; a reply goes Streaming → Complete, Stopped or Failed.</summary>
public enum MessageStatus { Streaming, Complete, Stopped, Failed }

/// <summary>A node of a conversation's tree. Siblings share a parent: the versions of one turn.</summary>
public sealed class Message
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ConversationId { get; set; }
    public Conversation? Conversation { get; set; }
    public Guid? ParentId { get; set; }

    public MessageRole Role { get; set; }
    public string Content { get; set; } = "";
    public MessageStatus Status { get; set; } = MessageStatus.Complete;
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>
    /// A streaming reply's heartbeat: its job saves it at least every second. A reply still streaming long after its
    /// last save lost its job (the server stopped) and is marked failed, keeping its text.
    /// </summary>
    public DateTimeOffset? SavedAt { get; set; }

    // Replies only: what produced them and how fast.
    public string? Model { get; set; }
    public ConversationSettings? Settings { get; set; }
    public int? PromptTokens { get; set; }
    public int? CompletionTokens { get; set; }
    public int? TimeToFirstTokenMs { get; set; }
    public double? TokensPerSecond { get; set; }
    public string? FinishReason { get; set; }
    public string? Error { get; set; }

    /// <summary>The user's thumbs: +1, −1 or none, with an optional comment, for the admin console.</summary>
    public short? Rating { get; set; }
    public string? RatingComment { get; set; }
}
