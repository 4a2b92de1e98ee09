using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Feedback;

namespace ChatBlazor.Core.Tests.Usage;

/// <summary>The rules that turn thumbs and regenerations into preference pairs (documented on the feedback page and in the README).</summary>
public sealed class PreferencePairsTests
{
    private readonly List<Message> _messages = [];
    private readonly Guid _conversation = Guid.NewGuid();
    private DateTimeOffset _clock = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private Message Add(MessageRole role, string content, Message? parent, short? rating = null, CompletionStatus status = CompletionStatus.Complete)
    {
        _clock = _clock.AddSeconds(1);
        var message = new Message
        {
            ConversationId = _conversation, ParentId = parent?.Id, Role = role, Content = content, Rating = rating, Status = status, CreatedAt = _clock,
            Model = role == MessageRole.Assistant ? "mini" : null,
        };
        _messages.Add(message);
        return message;
    }

    private Message User(string content, Message? parent = null) => Add(MessageRole.User, content, parent);
    private Message Reply(string content, Message parent, short? rating = null, CompletionStatus status = CompletionStatus.Complete) =>
        Add(MessageRole.Assistant, content, parent, rating, status);

    private List<(string Chosen, string Rejected)> Pairs() =>
        PreferencePairs.From(_conversation, _messages).Select(p => (p.Chosen.Content, p.Rejected.Content)).ToList();

    [Fact]
    public void AThumbsUpReplyIsChosenOverEachThumbsDownAndUnratedSibling()
    {
        var question = User("q");
        Reply("down", question, rating: -1);
        Reply("up", question, rating: 1);
        Reply("unrated", question);

        Assert.Equal([("up", "down"), ("up", "unrated")], Pairs());
    }

    [Fact]
    public void WithoutAThumbsUpThereIsNoPairAndTwoThumbsUpAreNotRanked()
    {
        var first = User("first");
        Reply("down", first, rating: -1);
        Reply("unrated", first);
        var second = User("second");
        Reply("up a", second, rating: 1);
        Reply("up b", second, rating: 1);

        Assert.Empty(Pairs());
    }

    [Fact]
    public void ALoneRatedReplyHasNoPair()
    {
        Reply("up", User("q"), rating: 1);
        Reply("down", User("q2"), rating: -1);

        Assert.Empty(Pairs());
    }

    [Fact]
    public void FailedFilteredAndBlankRepliesNeverTakePart()
    {
        var question = User("q");
        Reply("up", question, rating: 1);
        Reply("half an answ", question, status: CompletionStatus.Failed);
        Reply("bad words", question, status: CompletionStatus.Filtered);
        Reply("  ", question, rating: -1);
        Reply("stopped early", question, status: CompletionStatus.Stopped);
        Reply("still writing", question, status: CompletionStatus.Streaming);

        Assert.Equal([("up", "stopped early")], Pairs());
    }

    [Fact]
    public void ThePromptIsTheBranchUpToTheUserTurnNotOtherBranches()
    {
        var hello = User("hello");
        var hi = Reply("hi there", hello);
        Reply("an older version of the answer", hello);
        var question = User("what is 2+2?", hi);
        User("an edited question on another branch", hi);
        Reply("4", question, rating: 1);
        Reply("5", question, rating: -1);

        var pair = Assert.Single(PreferencePairs.From(_conversation, _messages));

        Assert.Equal([new("user", "hello"), new("assistant", "hi there"), new PreferenceMessage("user", "what is 2+2?")], pair.Prompt);
        Assert.Equal(("4", "5", _conversation), (pair.Chosen.Content, pair.Rejected.Content, pair.ConversationId));
    }
}
