using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests.Conversations;

/// <summary>Conversations on a real PostgreSQL database of this class's own, created from the migrations.</summary>
public sealed class ConversationStoreTests : IAsyncLifetime
{
    private string _connectionString = "";
    private ConversationStore _store = null!;
    private const string Ada = "user-ada", Bob = "user-bob";

    private sealed class DbFactory(string connectionString) : IDbContextFactory<AppDbContext>
    {
        public AppDbContext CreateDbContext() => new(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly)).Options);
    }

    public async Task InitializeAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync(nameof(ConversationStoreTests));
        var factory = new DbFactory(_connectionString);
        await using (var db = factory.CreateDbContext())
        {
            await db.Database.MigrateAsync();
            db.Users.AddRange(new AppUser { Id = Ada, UserName = "ada" }, new AppUser { Id = Bob, UserName = "bob" });
            await db.SaveChangesAsync();
        }
        _store = new ConversationStore(factory);
    }

    public Task DisposeAsync() => TestServices.DropDatabaseAsync(_connectionString);

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
        var chat = await _store.CreateAsync(Ada, "m");
        var question = await _store.AddUserMessageAsync(Ada, chat.Id, null, "secret");
        var reply = await _store.StartReplyAsync(Ada, chat.Id, question!.Id);

        Assert.Null(await _store.GetAsync(Bob, chat.Id));
        Assert.Empty(await _store.ListAsync(Bob));
        Assert.Empty(await _store.ListAsync(Bob, search: "secret"));
        Assert.Null(await _store.AddUserMessageAsync(Bob, chat.Id, question.Id, "mine now"));
        Assert.Null(await _store.StartReplyAsync(Bob, chat.Id, question.Id));
        Assert.False(await _store.RenameAsync(Bob, chat.Id, "taken"));
        Assert.False(await _store.SetPinnedAsync(Bob, chat.Id, true));
        Assert.False(await _store.SetCurrentLeafAsync(Bob, chat.Id, question.Id));
        Assert.False(await _store.RateAsync(Bob, reply!.Id, 1, null));
        Assert.False(await _store.DeleteAsync(Bob, chat.Id));

        var unchanged = await _store.GetAsync(Ada, chat.Id);
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
        var old = await _store.CreateAsync(Ada, "m");
        await _store.AddUserMessageAsync(Ada, old.Id, null, "tell me about volcanoes");
        var pinned = await _store.CreateAsync(Ada, "m");
        await _store.AddUserMessageAsync(Ada, pinned.Id, null, "groceries");
        var recent = await _store.CreateAsync(Ada, "m");
        var q = await _store.AddUserMessageAsync(Ada, recent.Id, null, "hello");
        var reply = await _store.StartReplyAsync(Ada, recent.Id, q!.Id);
        await _store.FinishReplyAsync(reply!.Id, "Magma rises through the crust.", new ReplyOutcome(MessageStatus.Complete));
        await _store.SetPinnedAsync(Ada, pinned.Id, true);

        Assert.Equal([pinned.Id, recent.Id, old.Id], (await _store.ListAsync(Ada)).Select(c => c.Id));
        Assert.Equal([old.Id], (await _store.ListAsync(Ada, "VOLCANO")).Select(c => c.Id));
        Assert.Equal([recent.Id], (await _store.ListAsync(Ada, "magma")).Select(c => c.Id));
        Assert.Empty(await _store.ListAsync(Ada, "100%_"));
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
        await using var db = new DbFactory(_connectionString).CreateDbContext();
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
}
