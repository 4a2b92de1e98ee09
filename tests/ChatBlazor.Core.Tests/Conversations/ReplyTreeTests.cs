using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;

namespace ChatBlazor.Core.Tests.Conversations;

public sealed class ReplyTreeTests
{
    private static Message User(Guid? parent) => new() { ParentId = parent, Role = MessageRole.User, Content = "q" };

    private static Message Reply(Guid parent, CompletionStatus status = CompletionStatus.Complete) =>
        new() { ParentId = parent, Role = MessageRole.Assistant, Content = "a", Status = status };

    [Fact]
    public void AMessagesPositionAmongItsVersionsAndItsNeighbours()
    {
        var question = User(null);
        var (older, shown, newer) = (Guid.NewGuid(), Reply(question.Id), Guid.NewGuid());
        var tree = new ReplyTree([question, shown], new Dictionary<Guid, IReadOnlyList<Guid>>
        {
            [question.Id] = [question.Id],
            [shown.Id] = [older, shown.Id, newer],
        }, hasEarlier: false);

        Assert.Equal((1, 3), tree.Position(shown));
        Assert.Equal(older, tree.Version(shown, -1));
        Assert.Equal(newer, tree.Version(shown, +1));
        Assert.Null(tree.Version(shown, +2));
        Assert.Equal((0, 1), tree.Position(question));
        Assert.Null(tree.Version(question, -1));
    }

    [Theory]
    [InlineData(CompletionStatus.Queued, true)]
    [InlineData(CompletionStatus.Streaming, true)]
    [InlineData(CompletionStatus.Complete, false)]
    [InlineData(CompletionStatus.Length, false)]
    [InlineData(CompletionStatus.Stopped, false)]
    [InlineData(CompletionStatus.Failed, false)]
    public void TheBranchIsReplyingWhileItsLastReplyIsUnfinished(CompletionStatus status, bool replying)
    {
        var question = User(null);
        var reply = Reply(question.Id, status);

        var tree = new ReplyTree([question, reply], new Dictionary<Guid, IReadOnlyList<Guid>>(), hasEarlier: false);

        Assert.Equal(replying, tree.IsReplying);
        Assert.Same(reply, tree.Last);
        Assert.False(new ReplyTree([question], new Dictionary<Guid, IReadOnlyList<Guid>>(), false).IsReplying); // a question waiting for a send
    }

    [Fact]
    public void APathThatDoesNotRunFromParentToChildIsRefused()
    {
        var question = User(null);
        var stranger = Reply(Guid.NewGuid());

        Assert.Throws<ArgumentException>(() => new ReplyTree([question, stranger], new Dictionary<Guid, IReadOnlyList<Guid>>(), false));
    }

    [Fact]
    public void AMessageWithoutVersionInformationIsTheOnlyVersionOfItsTurn()
    {
        var question = User(null);
        var tree = new ReplyTree([question], new Dictionary<Guid, IReadOnlyList<Guid>>(), hasEarlier: true);

        Assert.Equal((0, 1), tree.Position(question));
        Assert.True(tree.HasEarlier);
    }
}
