using ChatBlazor.Core.Completions;

namespace ChatBlazor.Core.Conversations;

public enum MessageRole { User, Assistant }

/// <summary>A node of a conversation's tree. Siblings share a parent: the versions of one turn.</summary>
public sealed class Message
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ConversationId { get; set; }
    public Conversation? Conversation { get; set; }
    public Guid? ParentId { get; set; }

    public MessageRole Role { get; set; }
    public string Content { get; set; } = "";
    /// <summary>A user message is always <see cref="CompletionStatus.Complete"/>; a reply goes Queued → Streaming → an ending.</summary>
    public CompletionStatus Status { get; set; } = CompletionStatus.Complete;
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>
    /// A reply's heartbeat: the worker running it saves it at least every few seconds. A reply still unfinished long
    /// after its last save, whose job is gone, lost its worker for good and is marked failed, keeping its text.
    /// </summary>
    public DateTimeOffset? SavedAt { get; set; }
    /// <summary>
    /// Which run of the reply's job may write it: every claim of the job adds one, and a save from an earlier run
    /// (a worker that stalled while another took its job over) changes nothing.
    /// </summary>
    public int Attempt { get; set; }

    // Replies only: what produced them and how fast.
    public string? Model { get; set; }
    public ConversationSettings? Settings { get; set; }
    public int? PromptTokens { get; set; }
    public int? CompletionTokens { get; set; }
    public int? TimeToFirstTokenMs { get; set; }
    public double? TokensPerSecond { get; set; }
    public string? Error { get; set; }

    /// <summary>The user's thumbs: +1, −1 or none, with an optional comment, for the admin console.</summary>
    public short? Rating { get; set; }
    public string? RatingComment { get; set; }

    /// <summary>When a moderator hid the message; the user sees <see cref="HiddenReason"/> in its place.</summary>
    public DateTimeOffset? HiddenAt { get; set; }
    public string? HiddenReason { get; set; }
}
