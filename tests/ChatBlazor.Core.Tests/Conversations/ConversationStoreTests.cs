using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests.Conversations;

/// <summary>Conversations on a real PostgreSQL database (one per class).</summary>
public sealed class ConversationStoreTests(ConversationDatabase database) : IClassFixture<ConversationDatabase>
{
    private const string Ada = ConversationDatabase.Ada;
    private readonly ConversationStore _store = new(database);

    private Task<Message?> ReplyAsync(string user, Guid chat, Guid question) => _store.StartReplyAsync(user, chat, question, Guid.CreateVersion7(), "m");

    /// <summary>A reply through its whole life: queued, claimed by a worker, finished.</summary>
    private async Task<Message> AnsweredAsync(string user, Guid chat, Guid question, string text, CompletionStatus status = CompletionStatus.Complete)
    {
        var reply = (await ReplyAsync(user, chat, question))!;
        var claim = (await _store.ClaimReplyAsync(reply.Id))!;
        Assert.Equal(ReplyWrite.Written, await _store.FinishReplyAsync(reply.Id, claim.Attempt, text, new ReplyOutcome(status)));
        return reply;
    }

    private async Task<IReadOnlyList<Message>> VisibleAsync(string user, Guid chat) => (await _store.PathAsync(user, chat))!.Value.Path;

    [Fact]
    public async Task AUserMessageIsCommittedAndTitlesTheConversation()
    {
        var chat = await _store.CreateAsync(Ada, "chatblazor-mini");

        var message = await _store.AddUserMessageAsync(Ada, chat.Id, null, "What does ephemeral mean in a sentence like this one please?");

        var view = (await _store.OpenAsync(Ada, chat.Id))!;
        Assert.Equal(message!.Id, Assert.Single(view.Tree.Path).Id);
        Assert.Equal(message.Id, view.Conversation.CurrentLeafId);
        Assert.Equal("What does ephemeral mean in a sentence like…", view.Conversation.Title);
    }

    [Fact]
    public async Task AnotherUsersConversationCannotBeReadOrChangedById()
    {
        var (ada, bob) = (await database.NewUserAsync(), await database.NewUserAsync());
        var chat = await _store.CreateAsync(ada, "m");
        var question = await _store.AddUserMessageAsync(ada, chat.Id, null, "secret");
        var reply = await AnsweredAsync(ada, chat.Id, question!.Id, "hush");

        Assert.Null(await _store.OpenAsync(bob, chat.Id));
        Assert.Null(await _store.PathAsync(bob, chat.Id));
        Assert.Null(await _store.ReplyAsync(bob, reply.Id));
        Assert.Empty(await _store.ListAsync(bob));
        Assert.Empty(await _store.ListAsync(bob, search: "secret"));
        Assert.Null(await _store.AddUserMessageAsync(bob, chat.Id, question.Id, "mine now"));
        Assert.Null(await ReplyAsync(bob, chat.Id, question.Id));
        Assert.False(await _store.RenameAsync(bob, chat.Id, "taken"));
        Assert.False(await _store.SetPinnedAsync(bob, chat.Id, true));
        Assert.False(await _store.ShowVersionAsync(bob, chat.Id, question.Id));
        Assert.False(await _store.RateAsync(bob, reply.Id, 1, null));
        Assert.False(await _store.DeleteAsync(bob, chat.Id));

        var unchanged = (await _store.OpenAsync(ada, chat.Id))!;
        Assert.Equal(["secret", "hush"], unchanged.Tree.Path.Select(m => m.Content));
        Assert.Equal("secret", unchanged.Conversation.Title);
        Assert.False(unchanged.Conversation.Pinned);
        Assert.Null(unchanged.Tree.Path[1].Rating);
    }

    [Fact]
    public async Task ARegenerationIsAVersionOfItsTurnAndShowingAVersionShowsItsNewestBranch()
    {
        var chat = await _store.CreateAsync(Ada, "m");
        var question = await _store.AddUserMessageAsync(Ada, chat.Id, null, "hi");
        var first = await AnsweredAsync(Ada, chat.Id, question!.Id, "Hello!");
        var follow = await _store.AddUserMessageAsync(Ada, chat.Id, first.Id, "and then?");
        await AnsweredAsync(Ada, chat.Id, follow!.Id, "Then this.");
        var second = await AnsweredAsync(Ada, chat.Id, question.Id, "Hi there!");

        var view = (await _store.OpenAsync(Ada, chat.Id))!;
        Assert.Equal(["hi", "Hi there!"], view.Tree.Path.Select(m => m.Content));
        Assert.Equal((1, 2), view.Tree.Position(view.Tree.Path[1]));
        Assert.Equal(first.Id, view.Tree.Version(view.Tree.Path[1], -1));

        Assert.True(await _store.ShowVersionAsync(Ada, chat.Id, first.Id));
        Assert.Equal(["hi", "Hello!", "and then?", "Then this."], (await VisibleAsync(Ada, chat.Id)).Select(m => m.Content));
        Assert.True(await _store.ShowVersionAsync(Ada, chat.Id, second.Id));
        Assert.Equal(["hi", "Hi there!"], (await VisibleAsync(Ada, chat.Id)).Select(m => m.Content));
    }

    [Fact]
    public async Task OpeningALongConversationLoadsTheLatestWindowOfTheVisibleBranchOnly()
    {
        var user = await database.NewUserAsync();
        var chat = await _store.CreateAsync(user, "m");
        Guid? parent = null;
        Message? reply = null;
        for (var i = 0; i < 30; i++)
        {
            var question = await _store.AddUserMessageAsync(user, chat.Id, parent, $"q{i}");
            reply = await AnsweredAsync(user, chat.Id, question!.Id, $"a{i}");
            if (i == 5)
                await AnsweredAsync(user, chat.Id, question.Id, "a5, again"); // a branch off the visible path
            parent = reply.Id;
        }
        await _store.ShowVersionAsync(user, chat.Id, reply!.Id);

        var view = (await _store.OpenAsync(user, chat.Id, window: 10))!;

        Assert.True(view.Tree.HasEarlier);
        Assert.Equal(["q25", "a25", "q26", "a26", "q27", "a27", "q28", "a28", "q29", "a29"], view.Tree.Path.Select(m => m.Content));
        var whole = (await _store.OpenAsync(user, chat.Id, window: 100))!;
        Assert.False(whole.Tree.HasEarlier);
        Assert.Equal(60, whole.Tree.Path.Count);
        Assert.Equal((0, 2), whole.Tree.Position(whole.Tree.Path[11])); // a5, with its other version counted but not loaded
        Assert.DoesNotContain(whole.Tree.Path, m => m.Content == "a5, again");
    }

    [Fact]
    public async Task AReplyGoesFromQueuedToItsEndingAndOnlyItsCurrentRunMayWriteIt()
    {
        var chat = await _store.CreateAsync(Ada, "m", new ConversationSettings { Temperature = 0.3, Stop = ["END"] });
        var question = await _store.AddUserMessageAsync(Ada, chat.Id, null, "count");
        var reply = (await ReplyAsync(Ada, chat.Id, question!.Id))!;
        Assert.Equal(CompletionStatus.Queued, (await _store.FindAsync(reply.Id))!.Status);

        var first = (await _store.ClaimReplyAsync(reply.Id))!;
        Assert.Equal(ReplyWrite.Written, await _store.SaveProgressAsync(reply.Id, first.Attempt, "1 2"));
        var partial = (await _store.FindAsync(reply.Id))!;
        Assert.Equal(("1 2", CompletionStatus.Streaming), (partial.Content, partial.Status));
        Assert.Equal(0.3, partial.Settings!.Temperature);
        Assert.Equal(["END"], partial.Settings.Stop);

        // The first run stalls; its job is taken over. Its writes no longer count.
        var second = (await _store.ClaimReplyAsync(reply.Id))!;
        Assert.Equal(("1 2", first.Attempt + 1), (second.Content, second.Attempt));
        Assert.Equal(ReplyWrite.TakenOver, await _store.SaveProgressAsync(reply.Id, first.Attempt, "1 2 late"));
        Assert.Equal(ReplyWrite.TakenOver, await _store.FinishReplyAsync(reply.Id, first.Attempt, "1", new ReplyOutcome(CompletionStatus.Failed)));

        Assert.Equal(ReplyWrite.Written, await _store.FinishReplyAsync(reply.Id, second.Attempt, "1 2 3", new ReplyOutcome(CompletionStatus.Stopped, null, 5, 3, 120, 25.5)));
        Assert.Null(await _store.ClaimReplyAsync(reply.Id)); // ended: nothing to claim
        var done = (await _store.FindAsync(reply.Id))!;
        Assert.Equal(("1 2 3", CompletionStatus.Stopped, 3, 120), (done.Content, done.Status, done.CompletionTokens, done.TimeToFirstTokenMs));

        await _store.DeleteAsync(Ada, chat.Id);
        Assert.Equal(ReplyWrite.Gone, await _store.SaveProgressAsync(reply.Id, second.Attempt, "after the delete"));
    }

    [Fact]
    public async Task AQueuedReplyCanBeStoppedOrRemovedWithItsQuestionShownAgain()
    {
        var chat = await _store.CreateAsync(Ada, "m");
        var question = await _store.AddUserMessageAsync(Ada, chat.Id, null, "hi");
        var stopped = (await ReplyAsync(Ada, chat.Id, question!.Id))!;
        Assert.True(await _store.StopQueuedAsync(stopped.Id));
        Assert.False(await _store.StopQueuedAsync(stopped.Id));
        Assert.Equal(CompletionStatus.Stopped, (await _store.FindAsync(stopped.Id))!.Status);

        var unsent = (await ReplyAsync(Ada, chat.Id, question.Id))!;
        await _store.DeleteQueuedReplyAsync(unsent.Id);

        Assert.Null(await _store.FindAsync(unsent.Id));
        Assert.Equal([question.Id], (await VisibleAsync(Ada, chat.Id)).Select(m => m.Id));
    }

    [Fact]
    public async Task SearchFindsTitlesAndMessageTextAndTheListPutsPinnedThenNewestFirst()
    {
        var ada = await database.NewUserAsync();
        var old = await _store.CreateAsync(ada, "m");
        await _store.AddUserMessageAsync(ada, old.Id, null, "tell me about volcanoes");
        var pinned = await _store.CreateAsync(ada, "m");
        await _store.AddUserMessageAsync(ada, pinned.Id, null, "groceries");
        var recent = await _store.CreateAsync(ada, "m");
        var q = await _store.AddUserMessageAsync(ada, recent.Id, null, "hello");
        await AnsweredAsync(ada, recent.Id, q!.Id, "Magma rises through the crust.");
        await _store.SetPinnedAsync(ada, pinned.Id, true);

        Assert.Equal([pinned.Id, recent.Id, old.Id], (await _store.ListAsync(ada)).Select(c => c.Id));
        Assert.Equal([old.Id], (await _store.ListAsync(ada, "VOLCANO")).Select(c => c.Id));
        Assert.Equal([recent.Id], (await _store.ListAsync(ada, "magma")).Select(c => c.Id));
        Assert.Empty(await _store.ListAsync(ada, "100%_"));
    }

    [Fact]
    public async Task DeletingAConversationRemovesEveryBranch()
    {
        var chat = await _store.CreateAsync(Ada, "m");
        var q = await _store.AddUserMessageAsync(Ada, chat.Id, null, "a");
        await ReplyAsync(Ada, chat.Id, q!.Id);
        await _store.AddUserMessageAsync(Ada, chat.Id, null, "a, edited");

        Assert.True(await _store.DeleteAsync(Ada, chat.Id));

        Assert.Null(await _store.OpenAsync(Ada, chat.Id));
        await using var db = database.CreateDbContext();
        Assert.False(await db.Messages.AnyAsync(m => m.ConversationId == chat.Id));
    }

    [Fact]
    public async Task BadInputGetsAClearErrorAndStoresNothing()
    {
        var chat = await _store.CreateAsync(Ada, "m");
        var other = await _store.CreateAsync(Ada, "m");
        var foreign = await _store.AddUserMessageAsync(Ada, other.Id, null, "elsewhere");
        var reply = await AnsweredAsync(Ada, other.Id, foreign!.Id, "there");

        await Assert.ThrowsAsync<ArgumentException>(() => _store.AddUserMessageAsync(Ada, chat.Id, null, "  "));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => _store.AddUserMessageAsync(Ada, chat.Id, null, new string('x', ConversationStore.MaxMessageLength + 1)));
        Assert.Contains("at most", tooLong.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => _store.AddUserMessageAsync(Ada, chat.Id, foreign.Id, "cross-linked"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.RateAsync(Ada, reply.Id, 5, null));
        var longComment = await Assert.ThrowsAsync<ArgumentException>(() => _store.RateAsync(Ada, reply.Id, -1, new string('c', 2001)));
        Assert.Contains("at most 2,000 characters", longComment.Message);

        Assert.Empty((await _store.OpenAsync(Ada, chat.Id))!.Tree.Path);
        Assert.Null((await _store.FindAsync(reply.Id))!.Rating);
    }

    [Fact]
    public async Task ASilentReplyBecomesFailedAndKeepsItsTextWhileOneWithAHeartbeatGoesOn()
    {
        var user = await database.NewUserAsync();
        var chat = await _store.CreateAsync(user, "m");
        var question = await _store.AddUserMessageAsync(user, chat.Id, null, "tell me");
        var (lost, alive) = ((await ReplyAsync(user, chat.Id, question!.Id))!, (await ReplyAsync(user, chat.Id, question.Id))!);
        await _store.SaveProgressAsync(lost.Id, (await _store.ClaimReplyAsync(lost.Id))!.Attempt, "half an ans");
        await _store.ClaimReplyAsync(alive.Id);
        await using (var db = database.CreateDbContext())
            await db.Messages.Where(m => m.Id == lost.Id || m.Id == alive.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.SavedAt, DateTimeOffset.UtcNow.AddHours(-1)));
        await _store.HeartbeatAsync([alive.Id]);

        Assert.Equal([lost.Id], await _store.SilentRepliesAsync(TimeSpan.FromMinutes(10)));
        Assert.True(await _store.FailInterruptedAsync(lost.Id, TimeSpan.FromMinutes(10)));
        Assert.False(await _store.FailInterruptedAsync(alive.Id, TimeSpan.FromMinutes(10)));

        var failed = (await _store.FindAsync(lost.Id))!;
        Assert.Equal((CompletionStatus.Failed, "half an ans"), (failed.Status, failed.Content));
        Assert.Contains("Regenerate", failed.Error);
        Assert.Equal(CompletionStatus.Streaming, (await _store.FindAsync(alive.Id))!.Status);
    }

    [Fact]
    public async Task TheModelTitlesAChatOnceAfterItsFirstReplyUnlessTheUserRenamedIt()
    {
        var user = await database.NewUserAsync();
        var chat = await _store.CreateAsync(user, "m");
        var question = await _store.AddUserMessageAsync(user, chat.Id, null, "what does lucid mean");
        var first = await ReplyAsync(user, chat.Id, question!.Id);

        Assert.Equal((chat.Id, user, "what does lucid mean"), await _store.TitleToGenerateAsync(first!.Id));
        Assert.True(await _store.SetModelTitleAsync(chat.Id, "Meaning of lucid"));
        var titled = (await _store.OpenAsync(user, chat.Id))!.Conversation;
        Assert.Equal(("Meaning of lucid", TitleSource.Model), (titled.Title, titled.TitleSource));
        Assert.Null(await _store.TitleToGenerateAsync(first.Id)); // named already

        var other = await _store.CreateAsync(user, "m");
        var ask = await _store.AddUserMessageAsync(user, other.Id, null, "hello");
        var reply = await ReplyAsync(user, other.Id, ask!.Id);
        var second = await ReplyAsync(user, other.Id, ask.Id);
        Assert.Null(await _store.TitleToGenerateAsync(second!.Id)); // not the first reply

        Assert.True(await _store.RenameAsync(user, other.Id, "My greetings"));
        Assert.False(await _store.SetModelTitleAsync(other.Id, "Greeting"));
        Assert.Equal("My greetings", (await _store.OpenAsync(user, other.Id))!.Conversation.Title);
        Assert.Null(await _store.TitleToGenerateAsync(reply!.Id));
    }
}
