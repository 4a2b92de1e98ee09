using ChatBlazor.Core.Conversations;

namespace ChatBlazor.Web.Admin.Conversations;

/// <summary>One line of the read-only tree: a message, how far it is indented, and which version of its turn it is.</summary>
public sealed record OutlineItem(Message Message, int Depth, int Version, int Versions, bool Visible);

/// <summary>
/// A conversation's tree flattened for display, depth first with siblings oldest first: a turn with several versions
/// (edits, regenerations) indents each version's branch under it. Iterative, so a long chat cannot exhaust the stack.
/// </summary>
public static class ConversationOutline
{
    public static IReadOnlyList<OutlineItem> Of(IReadOnlyList<Message> messages, Guid? currentLeafId)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var ids = messages.Select(m => m.Id).ToHashSet();
        // A message whose parent was not loaded (a cut tree) is shown as a root rather than lost.
        var children = messages.GroupBy(m => m.ParentId is { } p && ids.Contains(p) ? p : (Guid?)null)
            .ToDictionary(g => g.Key ?? Guid.Empty, g => g.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToList());
        var visible = VisibleBranch(messages, currentLeafId);

        var outline = new List<OutlineItem>(messages.Count);
        var stack = new Stack<(Message Message, int Depth, int Version, int Versions)>();
        Push(stack, children.GetValueOrDefault(Guid.Empty) ?? [], 0);
        while (stack.TryPop(out var item))
        {
            outline.Add(new OutlineItem(item.Message, item.Depth, item.Version, item.Versions, visible.Contains(item.Message.Id)));
            Push(stack, children.GetValueOrDefault(item.Message.Id) ?? [], item.Depth);
        }
        return outline;
    }

    private static void Push(Stack<(Message, int, int, int)> stack, List<Message> siblings, int depth)
    {
        // Several versions of one turn each open a deeper level; a single next message continues at this one.
        var childDepth = siblings.Count > 1 ? depth + 1 : depth;
        for (var i = siblings.Count - 1; i >= 0; i--)
            stack.Push((siblings[i], childDepth, i + 1, siblings.Count));
    }

    private static HashSet<Guid> VisibleBranch(IReadOnlyList<Message> messages, Guid? leafId)
    {
        var byId = messages.ToDictionary(m => m.Id);
        var branch = new HashSet<Guid>();
        for (var id = leafId; id is { } current && byId.TryGetValue(current, out var message) && branch.Add(current); id = message.ParentId) { }
        return branch;
    }
}
