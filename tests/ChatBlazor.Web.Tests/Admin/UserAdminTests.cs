using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Usage;
using ChatBlazor.Testing;
using ChatBlazor.Web.Operator;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>UserAdmin against the real app, database and Redis: its rules, what it changes, what it logs, and the shell commands over it.</summary>
public class UserAdminTests(UserAdminTests.Factory app) : IClassFixture<UserAdminTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            SetPlan("Small", requestsPerMinute: 3, tokensPerMinute: 20_000, tokensPerDay: 100_000);
            SetPlan("Large", requestsPerMinute: 900, tokensPerMinute: 900_000, tokensPerDay: 9_000_000);
        }
    }

    private const string Password = "Str0ng!pass";

    private UserAdmin Admin => app.Services.GetRequiredService<UserAdmin>();

    private async Task<(string Id, string Email)> NewUserAsync(string? role = null, string? plan = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = $"u-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, Plan = plan };
        Assert.True((await users.CreateAsync(user, Password)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, Roles.User)).Succeeded);
        if (role is not null)
            Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        return (user.Id, email);
    }

    private async Task<AppDbContext> DbAsync() => await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    private async Task<List<AuditEntry>> AuditOfAsync(string email)
    {
        await using var db = await DbAsync();
        return await db.AuditEntries.Where(e => e.Target == email).OrderBy(e => e.Id).ToListAsync();
    }

    private static AuditActor ActorOf((string Id, string Email) admin) => new(admin.Id, admin.Email);

    private async Task<bool> IsAdminAsync(string email) => (await Admin.SearchAsync(new UserQuery(email))).Rows.Single().Role == Roles.Admin;

    [Fact]
    public async Task TheLastActiveAdminCanBeNeitherDemotedSuspendedNorDeleted()
    {
        var last = await NewUserAsync(Roles.Admin);
        // Every other admin of this app's database steps down, so `last` is the only one.
        foreach (var other in (await Admin.SearchAsync(new UserQuery(Take: UserQuery.MaxTake))).Rows.Where(r => r.Role == Roles.Admin && r.Id != last.Id))
            await Admin.SetRoleAsync(AuditActor.Shell, other.Id, Roles.User);

        var demote = await Assert.ThrowsAsync<UserAdminException>(() => Admin.SetRoleAsync(AuditActor.Shell, last.Id, Roles.User));
        await Assert.ThrowsAsync<UserAdminException>(() => Admin.SetSuspendedAsync(AuditActor.Shell, last.Id, true));
        await Assert.ThrowsAsync<UserAdminException>(() => Admin.DeleteAsync(AuditActor.Shell, last.Id, last.Email));

        Assert.Contains("last active admin", demote.Message);
        Assert.True(await IsAdminAsync(last.Email));
        Assert.Empty(await AuditOfAsync(last.Email)); // refused actions change nothing and log nothing

        // With a second admin, the first may go.
        var second = await NewUserAsync(Roles.Admin);
        await Admin.SetRoleAsync(ActorOf(second), last.Id, Roles.User);
        Assert.False(await IsAdminAsync(last.Email));
    }

    [Fact]
    public async Task AnAdminCannotSuspendDemoteOrDeleteThemselves()
    {
        var me = await NewUserAsync(Roles.Admin);
        await NewUserAsync(Roles.Admin); // not the last admin: the refusal is about acting on oneself

        foreach (var act in new Func<Task>[]
                 {
                     () => Admin.SetSuspendedAsync(ActorOf(me), me.Id, true),
                     () => Admin.SetRoleAsync(ActorOf(me), me.Id, Roles.User),
                     () => Admin.DeleteAsync(ActorOf(me), me.Id, me.Email),
                 })
            Assert.Contains("your own account", (await Assert.ThrowsAsync<UserAdminException>(act)).Message);

        var row = (await Admin.SearchAsync(new UserQuery(me.Email))).Rows.Single();
        Assert.Equal((Roles.Admin, false), (row.Role, row.Suspended));
    }

    [Fact]
    public async Task DeletingAUserRemovesTheirConversationsMessagesKeysAndUsageRows()
    {
        var admin = await NewUserAsync(Roles.Admin);
        var user = await NewUserAsync();
        await app.Services.GetRequiredService<ChatBlazor.Core.ApiKeys.ApiKeyStore>().CreateAsync(user.Id, "script");
        List<Guid> messageIds;
        await using (var db = await DbAsync())
        {
            var conversation = new Conversation { UserId = user.Id, Model = "chatblazor-mini", Title = "hi" };
            var question = new Message { Conversation = conversation, Role = MessageRole.User, Content = "hello" };
            conversation.Messages.Add(question);
            conversation.Messages.Add(new Message { Conversation = conversation, ParentId = question.Id, Role = MessageRole.Assistant, Content = "hi!" });
            db.Conversations.Add(conversation);
            messageIds = conversation.Messages.Select(m => m.Id).ToList();
            db.UsageRecords.Add(new UsageRecord { UserId = user.Id, Source = UsageSource.Chat, Model = "chatblazor-mini", PromptTokens = 5, CompletionTokens = 7, Status = CompletionStatus.Complete });
            await db.SaveChangesAsync();
        }
        Assert.Equal(1, (await Admin.GetAsync(user.Id))!.Conversations);

        var wrong = await Assert.ThrowsAsync<UserAdminException>(() => Admin.DeleteAsync(ActorOf(admin), user.Id, "someone-else@example.com"));
        Assert.Contains("Type the user's email", wrong.Message);
        Assert.NotNull(await Admin.GetAsync(user.Id));

        await Admin.DeleteAsync(ActorOf(admin), user.Id, user.Email.ToUpperInvariant());

        Assert.Null(await Admin.GetAsync(user.Id));
        await using (var db = await DbAsync())
        {
            Assert.False(await db.Users.AnyAsync(u => u.Id == user.Id));
            Assert.False(await db.Conversations.AnyAsync(c => c.UserId == user.Id));
            Assert.False(await db.Messages.AnyAsync(m => messageIds.Contains(m.Id)));
            Assert.False(await db.ApiKeys.AnyAsync(k => k.UserId == user.Id));
            Assert.False(await db.UsageRecords.AnyAsync(u => u.UserId == user.Id));
            Assert.False(await db.UserRoles.AnyAsync(r => r.UserId == user.Id));
        }
        var entry = Assert.Single(await AuditOfAsync(user.Email));
        Assert.Equal((AuditActions.UserDelete, admin.Id, admin.Email), (entry.Action, entry.ActorId, entry.ActorEmail));
    }

    [Fact]
    public async Task EachActionWritesOneAuditEntryWithOldAndNew()
    {
        var admin = ActorOf(await NewUserAsync(Roles.Admin));
        var user = await NewUserAsync(plan: "Small");
        await app.Services.GetRequiredService<ChatBlazor.Core.ApiKeys.ApiKeyStore>().CreateAsync(user.Id, "one");
        await app.Services.GetRequiredService<ChatBlazor.Core.ApiKeys.ApiKeyStore>().CreateAsync(user.Id, "two");

        await Admin.SetRoleAsync(admin, user.Id, Roles.Admin);
        await Admin.SetRoleAsync(admin, user.Id, Roles.User);
        await Admin.SetSuspendedAsync(admin, user.Id, true);
        await Admin.SetSuspendedAsync(admin, user.Id, false);
        await Admin.SetPlanAsync(admin, user.Id, "Large");
        await Admin.SetOverridesAsync(admin, user.Id, 5, null, 1234);
        await Admin.ResetPasswordAsync(admin, user.Id, "Temp0rary!pass");
        await Admin.CreateResetCodeAsync(admin, user.Id);
        var keyId = (await Admin.GetAsync(user.Id))!.ApiKeys.First().Id;
        Assert.Equal(1, await Admin.RevokeApiKeysAsync(admin, user.Id, keyId));
        Assert.Equal(1, await Admin.RevokeApiKeysAsync(admin, user.Id, null)); // the one left
        // Asking for what already is changes nothing and logs nothing.
        await Admin.SetPlanAsync(admin, user.Id, "Large");
        await Admin.SetSuspendedAsync(admin, user.Id, false);
        Assert.Equal(0, await Admin.RevokeApiKeysAsync(admin, user.Id, null));

        var entries = await AuditOfAsync(user.Email);
        Assert.Equal(
            [AuditActions.UserRole, AuditActions.UserRole, AuditActions.UserSuspend, AuditActions.UserUnsuspend, AuditActions.UserPlan, AuditActions.UserQuota,
             AuditActions.UserPasswordReset, AuditActions.UserPasswordReset, AuditActions.UserApiKeyRevoke, AuditActions.UserApiKeyRevoke],
            entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal((admin.Id, admin.Email), (e.ActorId, e.ActorEmail)));
        Assert.Equal("User → Admin", entries[0].Details);
        Assert.Equal("Small → Large", entries[4].Details);
        Assert.Equal("requests/min plan, tokens/min plan, tokens/day plan → requests/min 5, tokens/min plan, tokens/day 1234", entries[5].Details);
        Assert.DoesNotContain("Temp0rary", string.Join(" ", entries.Select(e => e.Details))); // never a secret
    }

    [Fact]
    public async Task SuspendingLocksTheAccountWithANewStampAndUnsuspendingRestoresLogIn()
    {
        var admin = ActorOf(await NewUserAsync(Roles.Admin));
        var user = await NewUserAsync();
        string StampOf(AppDbContext db) => db.Users.Single(u => u.Id == user.Id).SecurityStamp!;
        string before;
        await using (var db = await DbAsync())
            before = StampOf(db);

        await Admin.SetSuspendedAsync(admin, user.Id, true);

        await using (var db = await DbAsync())
        {
            var row = await db.Users.SingleAsync(u => u.Id == user.Id);
            Assert.True(DisabledAccounts.IsDisabled(row.LockoutEnabled, row.LockoutEnd));
            Assert.NotEqual(before, row.SecurityStamp);
        }
        Assert.True((await Admin.SearchAsync(new UserQuery(user.Email))).Rows.Single().Suspended);

        await Admin.SetSuspendedAsync(admin, user.Id, false);

        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var logIn = await FormClient.SubmitAsync(client, "/Account/Login", new() { ["Input.Email"] = user.Email, ["Input.Password"] = Password });
        Assert.Equal(HttpStatusCode.Redirect, logIn.StatusCode);
        Assert.EndsWith("chat", logIn.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task ASuspendedUsersNextRequestIsSignedOutAndTheLogInPageSaysWhy()
    {
        var admin = ActorOf(await NewUserAsync(Roles.Admin));
        var user = await NewUserAsync();
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await FormClient.SubmitAsync(client, "/Account/Login", new() { ["Input.Email"] = user.Email, ["Input.Password"] = Password });
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/api-keys")).StatusCode); // signed in

        await Admin.SetSuspendedAsync(admin, user.Id, true);

        var refused = await client.GetAsync("/account/api-keys");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        var login = refused.Headers.Location!.OriginalString;
        Assert.Contains("/Account/Login", login);
        var page = WebUtility.HtmlDecode(await (await client.GetAsync(login)).Content.ReadAsStringAsync());
        Assert.Contains(ChatBlazor.Web.Account.SessionEnd.SuspendedNotice, page);
    }

    [Fact]
    public async Task APlanChangeAndOverridesApplyToTheNextApiRequest()
    {
        var admin = ActorOf(await NewUserAsync(Roles.Admin));
        var (userId, key) = await app.UserWithKeyAsync("Small");
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        async Task<string> RequestLimitAsync()
        {
            var response = await client.PostAsJsonAsync("/v1/chat/completions",
                new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 2 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("x-ratelimit-limit-requests").Single();
        }

        Assert.Equal("3", await RequestLimitAsync());
        await Admin.SetPlanAsync(admin, userId, "Large");
        Assert.Equal("900", await RequestLimitAsync());
        await Admin.SetOverridesAsync(admin, userId, 42, null, null);
        Assert.Equal("42", await RequestLimitAsync());
        await Admin.SetOverridesAsync(admin, userId, null, null, null);
        Assert.Equal("900", await RequestLimitAsync());

        // The calls were the user's activity: noted as they settled (just after each answer ended).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Admin.GetAsync(userId))!.User.LastActiveAt is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "LastActiveAt was never set by the completed API calls.");
            await Task.Delay(50); // polling a condition
        }

        var plan = await app.Services.GetRequiredService<ChatBlazor.Core.Limits.UserPlans>().ForUserAsync(userId);
        await Admin.SetOverridesAsync(admin, userId, null, 777, 8888);
        var overridden = await app.Services.GetRequiredService<ChatBlazor.Core.Limits.UserPlans>().ForUserAsync(userId);
        Assert.Equal((plan.RequestsPerMinute, 777L, 8888L, "Large"), (overridden.RequestsPerMinute, overridden.TokensPerMinute, overridden.TokensPerDay, overridden.Name));
    }

    [Fact]
    public async Task OverridesAndPlansMustBeValid()
    {
        var admin = ActorOf(await NewUserAsync(Roles.Admin));
        var user = await NewUserAsync();

        Assert.Contains("no plan 'Gold'", (await Assert.ThrowsAsync<UserAdminException>(() => Admin.SetPlanAsync(admin, user.Id, "Gold"))).Message);
        await Assert.ThrowsAsync<UserAdminException>(() => Admin.SetOverridesAsync(admin, user.Id, 0, null, null));
        await Assert.ThrowsAsync<UserAdminException>(() => Admin.SetRoleAsync(admin, user.Id, "Owner"));
        Assert.Empty(await AuditOfAsync(user.Email));
    }

    [Fact]
    public async Task SearchFindsByEmailOrNameAndSortsByUsageThisMonth()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var ids = new List<string>();
        foreach (var (name, tokens) in new[] { ("light", 10), ("heavy", 5000), ("middle", 300) })
        {
            var user = new AppUser { UserName = $"{name}-{tag}", Email = $"{name}-{Guid.NewGuid():N}@example.com" };
            Assert.True((await users.CreateAsync(user, Password)).Succeeded);
            ids.Add(user.Id);
            await using var db = await DbAsync();
            db.UsageRecords.Add(new UsageRecord { UserId = user.Id, Source = UsageSource.Api, Model = "m", PromptTokens = tokens, CompletionTokens = 0, Status = CompletionStatus.Complete });
            // Last month's and titles' tokens are not this month's usage.
            db.UsageRecords.Add(new UsageRecord { UserId = user.Id, Source = UsageSource.Api, Model = "m", PromptTokens = 100_000, Status = CompletionStatus.Complete, CreatedAt = DateTimeOffset.UtcNow.AddDays(-40) });
            db.UsageRecords.Add(new UsageRecord { UserId = user.Id, Source = UsageSource.Title, Model = "m", PromptTokens = 100_000, Status = CompletionStatus.Complete });
            await db.SaveChangesAsync();
        }

        var (rows, total) = await Admin.SearchAsync(new UserQuery(tag.ToUpperInvariant(), UserSort.Usage, Descending: true));

        Assert.Equal(3, total);
        Assert.Equal(["heavy", "middle", "light"], rows.Select(r => r.Name.Split('-')[0]));
        Assert.Equal([5000L, 300L, 10L], rows.Select(r => r.TokensThisMonth));
        var (ascending, _) = await Admin.SearchAsync(new UserQuery(tag, UserSort.Usage, Descending: false, Skip: 1, Take: 1));
        Assert.Equal("middle", Assert.Single(ascending).Name.Split('-')[0]);
        var byEmail = (await Admin.SearchAsync(new UserQuery(rows[0].Email[..20]))).Rows;
        Assert.Equal(ids[1], Assert.Single(byEmail).Id);
        Assert.Empty((await Admin.SearchAsync(new UserQuery($"%{tag}"))).Rows); // % is a character to find, not a wildcard
    }

    [Fact]
    public async Task LastActivityIsWrittenAtMostOncePerFiveMinutes()
    {
        var user = await NewUserAsync();
        var clock = new ClockDouble(DateTimeOffset.UtcNow);
        var meter = new LastActivity(app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>(), clock);
        var usage = new UsageRecord { UserId = user.Id, Source = UsageSource.Chat, Model = "m" };
        async Task<DateTimeOffset?> LastActiveAsync()
        {
            await using var db = await DbAsync();
            return await db.Users.Where(u => u.Id == user.Id).Select(u => u.LastActiveAt).SingleAsync();
        }

        await meter.RecordAsync(usage, CancellationToken.None);
        var first = await LastActiveAsync();
        clock.Advance(TimeSpan.FromMinutes(4));
        await meter.RecordAsync(usage, CancellationToken.None);
        var second = await LastActiveAsync();
        clock.Advance(TimeSpan.FromMinutes(2));
        await meter.RecordAsync(usage, CancellationToken.None);
        var third = await LastActiveAsync();
        clock.Advance(TimeSpan.FromMinutes(10));
        await meter.RecordAsync(new UsageRecord { UserId = user.Id, Source = UsageSource.Title, Model = "m" }, CancellationToken.None);

        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.True(third > first);
        Assert.Equal(third, await LastActiveAsync()); // a title is not the user's activity
    }

    [Fact]
    public async Task OperatorCommandsSuspendUnsuspendAndSetPlanAsTheShell()
    {
        var user = await NewUserAsync();
        async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            var exit = await OperatorCommand.Parse(args)!.RunAsync(app.Services, output, error);
            return (exit, output.ToString(), error.ToString());
        }

        var suspended = await RunAsync("admin", "suspend-user", "--email", user.Email);
        Assert.Equal(0, suspended.Exit);
        Assert.True((await Admin.SearchAsync(new UserQuery(user.Email))).Rows.Single().Suspended);
        Assert.Equal(0, (await RunAsync("admin", "unsuspend-user", "--email", user.Email)).Exit);
        Assert.False((await Admin.SearchAsync(new UserQuery(user.Email))).Rows.Single().Suspended);
        var plan = await RunAsync("admin", "set-plan", "--email", user.Email, "--plan", "large");
        Assert.Equal(0, plan.Exit);
        Assert.Contains("Large plan", plan.Output);
        Assert.Equal("Large", (await Admin.SearchAsync(new UserQuery(user.Email))).Rows.Single().Plan);

        var unknown = await RunAsync("admin", "set-plan", "--email", user.Email, "--plan", "Gold");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("There is no plan 'Gold'", unknown.Error);
        Assert.Equal(2, (await RunAsync("admin", "set-plan", "--email", user.Email)).Exit);

        var entries = await AuditOfAsync(user.Email);
        Assert.Equal([AuditActions.UserSuspend, AuditActions.UserUnsuspend, AuditActions.UserPlan], entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal(AuditActor.Shell.Id, e.ActorId));
    }
}

