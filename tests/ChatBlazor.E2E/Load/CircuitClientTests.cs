using System.Diagnostics;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.E2E.Load;

/// <summary>The browserless chat client the load benchmark runs by the hundred, checked against the real app once.</summary>
public class CircuitClientTests(LoadApp app) : IClassFixture<LoadApp>
{
    private const string Password = "Str0ng!pass";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABrowserlessClientSignsInSendsAMessageAndFollowsTheReplyAsItStreamsToItsStoredEnd()
    {
        var email = $"circuit-{Guid.NewGuid():N}@example.com";
        await using (var scope = app.Services.CreateAsyncScope())
            await DatabaseSetup.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, Password, null,
                app.Services.GetRequiredService<PlanCatalog>().Default.Name);
        await using var client = await CircuitClient.SignInAsync(app.BaseUrl, email, Password);
        await client.OpenChatAsync();

        var reply = await client.SendAsync("count to three");
        await app.Model.Asked.ReadAsync().AsTask().WaitAsync(Wait);
        // One word at a time, each seen on the circuit before the next is written: the reply streams. (A word is shown
        // once the space after it has come: the stream redactor holds back a last word that may still grow into an email or a key.)
        foreach (var (token, shown) in new[] { ("one ", "one"), ("two ", "one two"), ("three ", "one two three") })
        {
            app.Model.Release(token);
            await UntilAsync(() => reply.Text == shown, () => $"the page shows \"{reply.Text}\", not \"{shown}\" ({client.Failure})");
        }
        app.Model.Release("<end>");

        Assert.Equal("complete", await reply.Ended.WaitAsync(Wait));
        Assert.Equal("one two three", reply.Text);
        Assert.True(reply.TextBatches.Count >= 3, $"{reply.TextBatches.Count} batches carried text");
        Assert.Null(client.Failure);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var stored = await db.Messages.AsNoTracking().Where(m => m.ConversationId == client.ConversationId).OrderBy(m => m.CreatedAt).ToListAsync();
        Assert.Equal([(MessageRole.User, "count to three", CompletionStatus.Complete), (MessageRole.Assistant, "one two three ", CompletionStatus.Complete)],
            stored.Select(m => (m.Role, m.Content, m.Status)));
    }

    private static async Task UntilAsync(Func<bool> condition, Func<string> failure)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > Wait)
                Assert.Fail(failure());
            await Task.Delay(20); // polling a condition with a deadline
        }
    }
}
