using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using ChatBlazor.Core.Replies;
using ChatBlazor.Web.Admin.Moderation;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatBlazor.Web.Tests.Moderation;

/// <summary>
/// The moderation decision, its flags, automatic suspension, the console's actions and the settings' sync, against
/// the real app, database and Redis, with the detector and classifier doubles (<see cref="ModerationAppFactory"/>).
/// </summary>
public class ModerationTests(ModerationTests.Factory app) : IClassFixture<ModerationTests.Factory>
{
    public sealed class Factory : ModerationAppFactory;

    private static readonly AuditActor Moderator = new("moderator-test", "moderator@example.com");

    private ModerationService Moderation => app.Services.GetRequiredService<ModerationService>();
    private ModerationAdmin Admin => app.Services.GetRequiredService<ModerationAdmin>();

    private async Task<(string Id, string Email)> NewUserAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = $"m-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true };
        Assert.True((await users.CreateAsync(user, "Str0ng!pass")).Succeeded);
        return (user.Id, email);
    }

    private async Task<Message> NewReplyAsync(string userId, string content)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var conversation = new Conversation { UserId = userId, Model = "chatblazor-mini", Title = "t" };
        var question = new Message { Conversation = conversation, Role = MessageRole.User, Content = "question" };
        var reply = new Message { Conversation = conversation, ParentId = question.Id, Role = MessageRole.Assistant, Content = content };
        conversation.Messages.Add(question);
        conversation.Messages.Add(reply);
        db.Conversations.Add(conversation);
        await db.SaveChangesAsync();
        return reply;
    }

    private async Task<T> InDbAsync<T>(Func<AppDbContext, Task<T>> read)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await read(db);
    }

    [Fact]
    public void TheStrongestActionWinsAndRedactionStillApplies()
    {
        var result = Moderation.Check($"Please {ModerationSamples.Override} and mail {ModerationSamples.Email} [score violence=0.75]");

        Assert.Equal(ModerationAction.Block, result.Action);
        Assert.Equal(ModerationCategories.Jailbreak, result.Category);
        Assert.Equal("Blocked by the jailbreak policy: the message asks to ignore or reveal the system's instructions (rule jailbreak.override).", result.Reason);
        Assert.Equal($"Please {ModerationSamples.Override} and mail [EMAIL] [score violence=0.75]", result.RedactedText);
        Assert.Equal(["jailbreak", "pii", "violence"], result.FlaggedCategories.Order());
        Assert.Equal(0.75, result.Scores["violence"], 3);
        Assert.Equal(1, result.Scores["pii"]);
        Assert.Equal(ModerationCategories.All.Count, result.Scores.Count);
    }

    [Fact]
    public void ReviewBeatsFlagAndEachNamesItsPolicy()
    {
        var flag = Moderation.Check("[score violence=0.9]");
        Assert.Equal(ModerationAction.Flag, flag.Action);
        Assert.Equal("Flagged by the violence policy: the message is about violence (classifier score 0.90).", flag.Reason);

        var review = Moderation.Check("[score violence=0.9] [score self-harm=0.8]");
        Assert.Equal(ModerationAction.Review, review.Action);
        Assert.Equal("Sent to review by the self-harm policy: the message is about self-harm (classifier score 0.80).", review.Reason);
        Assert.Null(review.RedactedText);
    }

    [Fact]
    public void AClassifierScoreActsFromItsThresholdOn()
    {
        Assert.Equal(ModerationAction.Allow, Moderation.Check("[score illicit=0.69]").Action);
        Assert.False(Moderation.Check("[score illicit=0.69]").Flagged);
        Assert.Equal(ModerationAction.Flag, Moderation.Check("[score illicit=0.7]").Action);
        // A jailbreak-like score is less certain than a rule: review, from 0.8.
        Assert.Equal(ModerationAction.Allow, Moderation.Check("[score jailbreak=0.79]").Action);
        Assert.Equal(ModerationAction.Review, Moderation.Check("[score jailbreak=0.8]").Action);
    }

    [Fact]
    public void PersonalDataAloneIsRedactedWithTypedPlaceholders()
    {
        var result = Moderation.Check($"card {ModerationSamples.Card}, badge EMP-123456, fine");

        Assert.Equal(ModerationAction.Redact, result.Action);
        Assert.Equal("card [CARD], badge [EMPLOYEE], fine", result.RedactedText);
        Assert.Equal("Redacted by the pii policy: personal data was replaced ([CARD], [EMPLOYEE]) before the model saw it.", result.Reason);
        Assert.Equal(ModerationAction.Allow, Moderation.Check("an ordinary question about EMP-12345 and 411111111111111").Action);
    }

    [Fact]
    public async Task ABlockIsRecordedWithARedactedExcerptAndAnAllowIsNot()
    {
        var (user, _) = await NewUserAsync();
        var text = $"My card is {ModerationSamples.Card}; now {ModerationSamples.Override}.";
        var result = Moderation.Check(text);
        var context = new ModerationContext(user, ModerationSource.Api, ModerationDirection.Input, ApiKeyId: Guid.NewGuid());

        var flag = await Moderation.RecordAsync(context, text, result);

        Assert.NotNull(flag);
        var stored = await InDbAsync(db => db.ModerationFlags.AsNoTracking().SingleAsync(f => f.Id == flag.Id));
        Assert.Equal(ModerationAction.Block, stored.Action);
        Assert.Equal(ModerationFlagStatus.Open, stored.Status);
        Assert.Equal(ModerationSource.Api, stored.Source);
        Assert.Equal(context.ApiKeyId, stored.ApiKeyId);
        Assert.Equal($"My card is [CARD]; now {ModerationSamples.Override}.", stored.Excerpt);
        Assert.Equal(["jailbreak.override", "pii.card"], stored.Findings.Select(f => f.Rule).Order());
        Assert.Equal(result.Reason, stored.Reason);

        Assert.Null(await Moderation.RecordAsync(context, "hello", Moderation.Check("hello")));
        Assert.Null(await Moderation.RecordAsync(context, ModerationSamples.Email, Moderation.Check(ModerationSamples.Email)));
        Assert.Equal(1, await InDbAsync(db => db.ModerationFlags.CountAsync(f => f.UserId == user)));
    }

    [Fact]
    public async Task TheQueueListsOpenFlagsNewestFirstAndEachDecisionClosesItsFlag()
    {
        var (user, email) = await NewUserAsync();
        var reply = await NewReplyAsync(user, "[score violence=0.9] a violent reply");
        var first = await Moderation.RecordAsync(new ModerationContext(user, ModerationSource.OutputCheck, ModerationDirection.Output, reply.ConversationId, reply.Id),
            reply.Content, Moderation.Check(reply.Content));
        var second = await Moderation.RecordAsync(new ModerationContext(user, ModerationSource.Chat, ModerationDirection.Input),
            "[score self-harm=0.9]", Moderation.Check("[score self-harm=0.9]"));

        var (rows, _) = await Admin.QueueAsync();
        var mine = rows.Where(r => r.Flag.UserId == user).ToList();
        Assert.Equal([second!.Id, first!.Id], mine.Select(r => r.Flag.Id));
        Assert.Equal(email, mine[0].UserEmail);

        await Admin.DecideAsync(Moderator, first.Id, FlagDecision.Hide, "It described violence in detail.");
        var hidden = await InDbAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.Id == reply.Id));
        Assert.NotNull(hidden.HiddenAt);
        Assert.Equal("It described violence in detail.", hidden.HiddenReason);
        var decided = await InDbAsync(db => db.ModerationFlags.AsNoTracking().SingleAsync(f => f.Id == first.Id));
        Assert.Equal(ModerationFlagStatus.Hidden, decided.Status);
        Assert.Equal(Moderator.Email, decided.DecidedBy);
        Assert.Contains(await InDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == email).ToListAsync()),
            a => a.Action == AuditActions.ModerationDecision && a.ActorEmail == Moderator.Email && a.Details!.Contains("Hide", StringComparison.Ordinal));

        var again = await Assert.ThrowsAsync<ModerationAdminException>(() => Admin.DecideAsync(Moderator, first.Id, FlagDecision.Approve, null));
        Assert.Contains("already decided", again.Message, StringComparison.Ordinal);
        // A flag about a request, not a stored message, has nothing to hide.
        var nothing = await Assert.ThrowsAsync<ModerationAdminException>(() => Admin.DecideAsync(Moderator, second.Id, FlagDecision.Hide, null));
        Assert.Contains("nothing to hide", nothing.Message, StringComparison.Ordinal);

        await Admin.DecideAsync(Moderator, second.Id, FlagDecision.Approve, null);
        Assert.DoesNotContain((await Admin.QueueAsync()).Rows, r => r.Flag.UserId == user);
    }

    [Fact]
    public async Task SuspendingFromTheQueueSuspendsTheUserAndWarningIsRecorded()
    {
        var (user, _) = await NewUserAsync();
        var warned = await Moderation.RecordAsync(new ModerationContext(user, ModerationSource.Chat, ModerationDirection.Input), "[score hate=0.9]", Moderation.Check("[score hate=0.9]"));
        var suspended = await Moderation.RecordAsync(new ModerationContext(user, ModerationSource.Chat, ModerationDirection.Input), "[score hate=0.95]", Moderation.Check("[score hate=0.95]"));

        await Admin.DecideAsync(Moderator, warned!.Id, FlagDecision.Warn, "Keep it civil.");
        Assert.False((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);
        await Admin.DecideAsync(Moderator, suspended!.Id, FlagDecision.Suspend, null);

        Assert.True((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);
        var statuses = await InDbAsync(db => db.ModerationFlags.AsNoTracking().Where(f => f.UserId == user).OrderBy(f => f.CreatedAt).Select(f => f.Status).ToListAsync());
        Assert.Equal([ModerationFlagStatus.Warned, ModerationFlagStatus.UserSuspended], statuses);
    }

    [Fact]
    public async Task RepeatedBlocksSuspendTheUserByPolicy()
    {
        await Admin.SaveSettingsAsync(Moderator, storeOriginal: true, suspendAfterViolations: 3, suspendWindowDays: 7);
        var (user, email) = await NewUserAsync();
        var text = ModerationSamples.Override;
        var context = new ModerationContext(user, ModerationSource.Chat, ModerationDirection.Input);

        await Moderation.RecordAsync(context, text, Moderation.Check(text));
        await Moderation.RecordAsync(context, text, Moderation.Check(text));
        Assert.False((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);
        await Moderation.RecordAsync(context, text, Moderation.Check(text));

        Assert.True((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);
        Assert.Contains(await InDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == email).ToListAsync()),
            a => a.Action == AuditActions.UserSuspend && a.ActorEmail == "moderation policy");
        await Admin.SaveSettingsAsync(Moderator, storeOriginal: true, suspendAfterViolations: 5, suspendWindowDays: 7);
    }

    [Fact]
    public async Task BlocksOfWhatTheModelWroteCountAgainstTheUserOnlyOnceAnAdminUpholdsThem()
    {
        await Admin.SaveSettingsAsync(Moderator, storeOriginal: true, suspendAfterViolations: 2, suspendWindowDays: 7);
        try
        {
            var (user, _) = await NewUserAsync();
            var flags = new List<ModerationFlag>();
            for (var i = 0; i < 2; i++)
            {
                var reply = await NewReplyAsync(user, $"Sure: {ModerationSamples.Override}.");
                var context = new ModerationContext(user, ModerationSource.OutputCheck, ModerationDirection.Output, reply.ConversationId, reply.Id);
                var result = Moderation.Check(reply.Content);
                Assert.Equal(ModerationAction.Block, result.Action);
                flags.Add((await Moderation.RecordAsync(context, reply.Content, result))!);
            }
            Assert.False((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);

            await Admin.DecideAsync(Moderator, flags[0].Id, FlagDecision.Hide, null);
            Assert.False((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);
            await Admin.DecideAsync(Moderator, flags[1].Id, FlagDecision.Warn, null);
            Assert.True((await app.Services.GetRequiredService<UserAdmin>().GetAsync(user))!.User.Suspended);
        }
        finally
        {
            await Admin.SaveSettingsAsync(Moderator, storeOriginal: true, suspendAfterViolations: 5, suspendWindowDays: 7);
        }
    }

    [Fact]
    public async Task AWarningIsShownToItsUserOnlyUntilTheyHaveReadIt()
    {
        var warnings = app.Services.GetRequiredService<ModerationWarnings>();
        var (user, _) = await NewUserAsync();
        var (other, _) = await NewUserAsync();
        var reply = await NewReplyAsync(user, "[score hate=0.9] a hateful reply");
        var flag = await Moderation.RecordAsync(new ModerationContext(user, ModerationSource.OutputCheck, ModerationDirection.Output, reply.ConversationId, reply.Id),
            reply.Content, Moderation.Check(reply.Content));
        var approved = await Moderation.RecordAsync(new ModerationContext(user, ModerationSource.Chat, ModerationDirection.Input), "[score hate=0.9]", Moderation.Check("[score hate=0.9]"));
        await Admin.DecideAsync(Moderator, approved!.Id, FlagDecision.Approve, "Fine.");
        Assert.Empty(await warnings.UnreadAsync(user));

        await Admin.DecideAsync(Moderator, flag!.Id, FlagDecision.Warn, "Keep it civil.");

        var warning = Assert.Single(await warnings.UnreadAsync(user));
        Assert.Equal((flag.Id, "Keep it civil.", (Guid?)reply.ConversationId, ModerationCategories.Hate), (warning.FlagId, warning.Reason, warning.ConversationId, warning.Category));
        Assert.Empty(await warnings.UnreadAsync(other));
        Assert.False(await warnings.MarkReadAsync(other, flag.Id));
        Assert.Single(await warnings.UnreadAsync(user));
        Assert.True(await warnings.MarkReadAsync(user, flag.Id));
        Assert.Empty(await warnings.UnreadAsync(user));
        Assert.False(await warnings.MarkReadAsync(user, flag.Id));
    }

    [Fact]
    public async Task AnInvalidPatternIsRefusedWithAClearErrorAndAValidRuleAppliesAtOnce()
    {
        var bad = await Assert.ThrowsAsync<ModerationAdminException>(() =>
            Admin.SaveRuleAsync(Moderator, new ModerationRule("custom.bad", ModerationCategories.Pii, RuleKinds.Regex, "TICKET-(\\d+", "[TICKET]")));
        Assert.Contains("Rule 'custom.bad': the pattern is not a valid regular expression", bad.Message, StringComparison.Ordinal);
        Assert.Throws<ModerationAdminException>(() => Admin.Test(new ModerationRule("custom.x", "no-such-category", RuleKinds.Regex, "x", null), "x"));

        Assert.Equal(ModerationAction.Allow, Moderation.Check("see TICKET-42").Action);
        var ticket = new ModerationRule("custom.ticket", ModerationCategories.Pii, RuleKinds.Regex, @"TICKET-\d+", "[TICKET]");
        Assert.Equal([(4, 11)], Admin.Test(ticket, "see TICKET-4242").Select(f => (f.Start, f.Length)));
        await Admin.SaveRuleAsync(Moderator, ticket);

        Assert.Equal("see [TICKET]", Moderation.Check("see TICKET-42").RedactedText);
        Assert.Contains(app.Services.GetRequiredService<ModerationSettings>().Current.Rules, r => r.Rule.Id == "custom.ticket" && !r.BuiltIn && r.UpdatedBy == Moderator.Email);

        // Disabling a built-in rule stores the admin's copy; the rule stops applying.
        await Admin.SaveRuleAsync(Moderator, ModerationAppFactory.EmployeeId with { Enabled = false });
        Assert.Equal(ModerationAction.Allow, Moderation.Check("badge EMP-123456").Action);
        await Admin.SaveRuleAsync(Moderator, ModerationAppFactory.EmployeeId);
        Assert.Equal("badge [EMPLOYEE]", Moderation.Check("badge EMP-123456").RedactedText);
        Assert.Contains(await InDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == "pii.employee-id").ToListAsync()),
            a => a.Action == AuditActions.ModerationRule && a.Details!.StartsWith("enabled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APolicyChangeReachesAnotherInstanceThroughRedis()
    {
        // A second instance's settings and sync over the same database and Redis, as another web process would have.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>());
        services.AddSingleton(app.Services.GetRequiredService<IConnectionMultiplexer>());
        services.AddSingleton(app.Services.GetRequiredService<IOptions<ReplyOptions>>());
        services.AddSingleton<ModerationDetectorFactory>(rules => new RuleDetector(rules));
        services.AddSingleton<ModerationSettings>();
        services.AddSingleton<SharedSettingsSync<ModerationSettings>>();
        await using var provider = services.BuildServiceProvider();
        var sync = provider.GetRequiredService<SharedSettingsSync<ModerationSettings>>();
        await sync.StartAsync(CancellationToken.None);
        var other = provider.GetRequiredService<ModerationSettings>();
        Assert.Equal(0.7, other.Current.PolicyFor(ModerationCategories.Harassment).Threshold);

        await Admin.SavePolicyAsync(Moderator, new ModerationPolicy(ModerationCategories.Harassment, ModerationAction.Review, ModerationAction.Review, 0.55));

        // Poll the other instance: the announcement arrives asynchronously; the periodic reload (30 s) is beyond this wait.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (other.Current.PolicyFor(ModerationCategories.Harassment).Threshold != 0.55 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal(new ModerationPolicy(ModerationCategories.Harassment, ModerationAction.Review, ModerationAction.Review, 0.55),
            other.Current.PolicyFor(ModerationCategories.Harassment));
        Assert.Equal(ModerationAction.Review, Moderation.Check("[score harassment=0.6]").Action);
        await sync.StopAsync(CancellationToken.None);

        var refused = await Assert.ThrowsAsync<ModerationAdminException>(() =>
            Admin.SavePolicyAsync(Moderator, new ModerationPolicy(ModerationCategories.Harassment, ModerationAction.Flag, ModerationAction.Flag, 1.5)));
        Assert.Contains("between 0 and 1", refused.Message, StringComparison.Ordinal);
    }
}
