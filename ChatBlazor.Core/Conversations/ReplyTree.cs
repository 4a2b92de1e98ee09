using ChatBlazor.Core.Completions;

namespace ChatBlazor.Core.Conversations;

/// <summary>
/// The part of a conversation's tree the chat shows: the visible branch from the root to the current leaf (its
/// latest messages; <see cref="HasEarlier"/> when older ones were left unloaded) and, for each of its messages, the
/// versions of that turn (siblings: same parent, oldest first). Edits and regenerations add versions; the user
/// pages through them.
/// </summary>
public sealed class ReplyTree
{
    private readonly IReadOnlyDictionary<Guid, IReadOnlyList<Guid>> _versions;

    /// <param name="path">The branch, oldest first: each message's parent is the one before it.</param>
    /// <param name="versions">For each message of <paramref name="path"/>, the ids of its turn's versions, oldest first.</param>
    public ReplyTree(IReadOnlyList<Message> path, IReadOnlyDictionary<Guid, IReadOnlyList<Guid>> versions, bool hasEarlier)
    {
        for (var i = 1; i < path.Count; i++)
            if (path[i].ParentId != path[i - 1].Id)
                throw new ArgumentException("The path must run from parent to child.", nameof(path));
        (Path, _versions, HasEarlier) = (path, versions, hasEarlier);
    }

    public static ReplyTree Empty { get; } = new([], new Dictionary<Guid, IReadOnlyList<Guid>>(), false);

    public IReadOnlyList<Message> Path { get; }

    /// <summary>Older messages of the branch exist beyond <see cref="Path"/>.</summary>
    public bool HasEarlier { get; }

    public Message? Last => Path.Count > 0 ? Path[^1] : null;

    /// <summary>The branch ends in a reply still being written: no new message, edit or regeneration until it ends.</summary>
    public bool IsReplying => Last is { Role: MessageRole.Assistant } last && !last.Status.IsFinal();

    /// <summary>Where a message stands among its turn's versions: (0-based index, how many).</summary>
    public (int Index, int Count) Position(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_versions.TryGetValue(message.Id, out var versions))
            return (0, 1);
        return (Math.Max(0, IndexOf(versions, message.Id)), versions.Count);
    }

    /// <summary>The previous (−1) or next (+1) version of a message's turn; null past either end.</summary>
    public Guid? Version(Message message, int step)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_versions.TryGetValue(message.Id, out var versions))
            return null;
        var target = IndexOf(versions, message.Id) + step;
        return target >= 0 && target < versions.Count ? versions[target] : null;
    }

    private static int IndexOf(IReadOnlyList<Guid> ids, Guid id)
    {
        for (var i = 0; i < ids.Count; i++)
            if (ids[i] == id)
                return i;
        return -1;
    }
}
