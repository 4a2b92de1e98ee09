using ChatBlazor.Core.Conversations;
using ChatBlazor.Web.Admin.Conversations;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>The read-only conversation view's tree: depth first, versions indented, the visible branch marked.</summary>
public class ConversationOutlineTests
{
    private readonly List<Message> _messages = [];
    private DateTimeOffset _clock = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private Message Add(string content, Message? parent)
    {
        _clock = _clock.AddSeconds(1);
        var message = new Message { ParentId = parent?.Id, Content = content, CreatedAt = _clock, Role = parent is null || parent.Role == MessageRole.Assistant ? MessageRole.User : MessageRole.Assistant };
        _messages.Add(message);
        return message;
    }

    [Fact]
    public void VersionsOfATurnAreIndentedUnderItAndOnlyTheCurrentBranchIsVisible()
    {
        var question = Add("q", null);
        var first = Add("a1", question);
        var follow = Add("q2", first);
        var answer = Add("a2", follow);
        Add("a1 regenerated", question);

        var outline = ConversationOutline.Of(_messages, currentLeafId: answer.Id);

        Assert.Equal(
            [("q", 0, 1, 1, true), ("a1", 1, 1, 2, true), ("q2", 1, 1, 1, true), ("a2", 1, 1, 1, true), ("a1 regenerated", 1, 2, 2, false)],
            outline.Select(i => (i.Message.Content, i.Depth, i.Version, i.Versions, i.Visible)));
    }

    [Fact]
    public void AMessageWhoseParentWasNotLoadedIsShownAsARoot()
    {
        var orphan = new Message { ParentId = Guid.NewGuid(), Content = "cut", CreatedAt = _clock };

        var item = Assert.Single(ConversationOutline.Of([orphan], currentLeafId: null));

        Assert.Equal(("cut", 0, false), (item.Message.Content, item.Depth, item.Visible));
    }
}
