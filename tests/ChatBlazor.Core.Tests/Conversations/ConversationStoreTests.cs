using ChatBlazor.Core.Conversations;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests.Conversations;

/// <summary>Conversations on a real PostgreSQL database (one per class).</summary>
public sealed class ConversationStoreTests(ConversationDatabase database) : IClassFixture<ConversationDatabase>
{
    private const string Ada = ConversationDatabase.Ada, Bob = ConversationDatabase.Bob;
    private readonly ConversationStore _store = new(database);

    [Fact]
    public async Task AUserMessageIsCommittedAndTitlesTheConversation()
    {
        var chat = await _store.CreateAsync(Ada, "chatblazor-mini");

        var message = await _store.AddUserMessageAsync(Ada, chat.Id, null, "What does ephemeral mean in a sentence like this one please?");

        var stored = await _store.GetAsync(Ada, chat.Id);
        Assert.Equal(message!.Id, Assert.Single(stored!.Messages).Id);
        Assert.Equal(message.Id, stored.CurrentLeafId);
        Assert.Equal("What does ephemeral mean in a sentence like…", stored.Title);
    }

    [Fact]
    public async Task AnotherUsersConversationCannotBeReadOrChangedById()
    {
        var (ada, bob) = (await database.NewUserAsync(), await database.NewUserAsync());
        var chat = await _store.CreateAsync(ada, "m");
        var question = await _store.AddUserMessageAsync(ada, chat.Id, null, "secret");
        var reply = await _store.StartReplyAsync(ada, chat.Id, question!.Id);

        Assert.Null(await _store.GetAsync(bob, chat.Id));
        Assert.Empty(await _store.ListAsync(bob));
        Assert.Empty(await _store.ListAsync(bob, search: "secret"));
        Assert.Null(await _store.AddUserMessageAsync(bob, chat.Id, question.Id, "mine now"));
        Assert.Null(await _store.StartReplyAsync(bob, chat.Id, question.Id));
        Assert.False(await _store.RenameAsync(bob, chat.Id, "taken"));
        Assert.False(await _store.SetPinnedAsync(bob, chat.Id, true));
        Assert.False(await _store.SetCurrentLeafAsync(bob, chat.Id, question.Id));
        Assert.False(await _store.RateAsync(bob, reply!.Id, 1, null));
        Assert.False(await _store.DeleteAsync(bob, chat.Id));

        var unchanged = await _store.GetAsync(ada, chat.Id);
        Assert.Equal(2, unchanged!.Messages.Count);
        Assert.Equal("secret", unchanged.Title);
        Assert.False(unchanged.Pinned);
        Assert.Null(unchanged.Messages.Single(m => m.Id == reply.Id).Rating);
    }

    [Fact]
    public async Task ARegenerationIsASiblingAndTheVisiblePathFollowsTheCurrentLeaf()
    {
        var chat = await _store.CreateAsync(Ada, "m");
        var question = await _store.AddUserMessageAsync(Ada, chat.Id, null, "hi");
        var first = await _store.StartReplyAsync(Ada, chat.Id, question!.Id);
        await _store.FinishReplyAsync(first!.Id, "Hello!", new ReplyOutcome(MessageStatus.Complete, "stop"));
        var second = await _store.StartReplyAsync(Ada, chat.Id, question.Id);

        var stored = await _store.GetAsync(Ada, chat.Id);
        Assert.Equal([question.Id, second!.Id], ConversationStore.PathTo(stored!.Messages, stored.CurrentLeafId).Select(m => m.Id));
        Assert.Equal(2, stored.Messages.Count(m => m.ParentId == question.Id));

        Assert.True(await _store.SetCurrentLeafAsync(Ada, chat.Id, first.Id));
        stored = await _store.GetAsync(Ada, chat.Id);
        Assert.Equal(["hi", "Hello!"], ConversationStore.PathTo(stored!.Messages, stored.CurrentLeafId).Select(m => m.Content));
    }

    [Fact]
    public async Task AStreamingReplyIsSavedAsItGrowsAndFinallyWithItsStatus()
    {
        var chat = await _store.CreateAsync(Ada, "m", new ConversationSettings { Temperature = 0.3, Stop = ["END"] });
        var question = await _store.AddUserMessageAsync(Ada, chat.Id, null, "count");
        var reply = await _store.StartReplyAsync(Ada, chat.Id, question!.Id);

        await _store.SaveProgressAsync(reply!.Id, "1 2");
        var partial = (await _store.GetAsync(Ada, chat.Id))!.Messages.Single(m => m.Id == reply.Id);
        Assert.Equal(("1 2", MessageStatus.Streaming), (partial.Content, partial.Status));
        Assert.Equal(0.3, partial.Settings!.Temperature);
        Assert.Equal(["END"], partial.Settings.Stop);

        await _store.FinishReplyAsync(reply.Id, "1 2 3", new ReplyOutcome(MessageStatus.Stopped, null, null, 5, 3, 120, 25.5));
        await _store.SaveProgressAsync(reply.Id, "late write from a slow flush");

        var done = (await _store.GetAsync(Ada, chat.Id))!.Messages.Single(m => m.Id == reply.Id);
        Assert.Equal(("1 2 3", MessageStatus.Stopped, 3, 120), (done.Content, done.Status, done.CompletionTokens, done.TimeToFirstTokenMs));
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
        var reply = await _store.StartReplyAsync(ada, recent.Id, q!.Id);
        await _store.FinishReplyAsync(reply!.Id, "Magma rises through the crust.", new ReplyOutcome(MessageStatus.Complete));
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
        await _store.StartReplyAsync(Ada, chat.Id, q!.Id);
        await _store.AddUserMessageAsync(Ada, chat.Id, null, "a, edited");

        Assert.True(await _store.DeleteAsync(Ada, chat.Id));

        Assert.Null(await _store.GetAsync(Ada, chat.Id));
        await using var db = database.CreateDbContext();
        Assert.False(await db.Messages.AnyAsync(m => m.ConversationId == chat.Id));
    }

    [Fact]
    public async Task BadInputGetsAClearErrorAndStoresNothing()
    {
        var chat = await _store.CreateAsync(Ada, "m");
        var other = await _store.CreateAsync(Ada, "m");
        var foreign = await _store.AddUserMessageAsync(Ada, other.Id, null, "elsewhere");

        await Assert.ThrowsAsync<ArgumentException>(() => _store.AddUserMessageAsync(Ada, chat.Id, null, "  "));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => _store.AddUserMessageAsync(Ada, chat.Id, null, new string('x', ConversationStore.MaxMessageLength + 1)));
        Assert.Contains("at most", tooLong.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => _store.AddUserMessageAsync(Ada, chat.Id, foreign!.Id, "cross-linked"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.RateAsync(Ada, foreign!.Id, 5, null));

        Assert.Empty((await _store.GetAsync(Ada, chat.Id))!.Messages);
    }

    [Fact]
    public async Task AReplyWithoutAHeartbeatBecomesFailedAndKeepsItsText()
    {
        var user = await database.NewUserAsync();
        var chat = await _store.CreateAsync(user, "m");
        var question = await _store.AddUserMessageAsync(user, chat.Id, null, "tell me");
        var (lost, alive) = (await _store.StartReplyAsync(user, chat.Id, question!.Id), await _store.StartReplyAsync(user, chat.Id, question.Id));
        await _store.SaveProgressAsync(lost!.Id, "half an ans");
        await _store.SaveProgressAsync(alive!.Id, "still going");
        await using (var db = database.CreateDbContext())
            await db.Messages.Where(m => m.Id == lost.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.SavedAt, DateTimeOffset.UtcNow.AddHours(-1)));

        Assert.True(await _store.FailAbandonedRepliesAsync(TimeSpan.FromMinutes(10)) >= 1);

        var messages = (await _store.GetAsync(user, chat.Id))!.Messages;
        var failed = messages.Single(m => m.Id == lost.Id);
        Assert.Equal((MessageStatus.Failed, "half an ans", "interrupted"), (failed.Status, failed.Content, failed.FinishReason));
        Assert.Contains("Regenerate", failed.Error);
        Assert.Equal(MessageStatus.Streaming, messages.Single(m => m.Id == alive.Id).Status);
    }

    [Fact]
    public async Task TheModelTitlesAChatOnceAfterItsFirstReplyUnlessTheUserRenamedIt()
    {
        var user = await database.NewUserAsync();
        var chat = await _store.CreateAsync(user, "m");
        var question = await _store.AddUserMessageAsync(user, chat.Id, null, "what does lucid mean");
        var first = await _store.StartReplyAsync(user, chat.Id, question!.Id);

        Assert.Equal((chat.Id, "what does lucid mean"), await _store.TitleToGenerateAsync(first!.Id));
        Assert.True(await _store.SetModelTitleAsync(chat.Id, "Meaning of lucid"));
        var titled = await _store.GetAsync(user, chat.Id);
        Assert.Equal(("Meaning of lucid", TitleSource.Model), (titled!.Title, titled.TitleSource));
        Assert.Null(await _store.TitleToGenerateAsync(first.Id)); // named already

        var other = await _store.CreateAsync(user, "m");
        var ask = await _store.AddUserMessageAsync(user, other.Id, null, "hello");
        var reply = await _store.StartReplyAsync(user, other.Id, ask!.Id);
        var second = await _store.StartReplyAsync(user, other.Id, ask.Id);
        Assert.Null(await _store.TitleToGenerateAsync(second!.Id)); // not the first reply

        Assert.True(await _store.RenameAsync(user, other.Id, "My greetings"));
        Assert.False(await _store.SetModelTitleAsync(other.Id, "Greeting"));
        Assert.Equal("My greetings", (await _store.GetAsync(user, other.Id))!.Title);
        Assert.Null(await _store.TitleToGenerateAsync(reply!.Id));
    }
}
