using System.Net;
using System.Text.Json;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using ChatBlazor.Testing;
using ChatBlazor.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>The usage CSV and preference JSONL downloads over HTTP: their content, escaping, audit entries and who may fetch them.</summary>
public class UsageAdminTests(AppFactory app) : IClassFixture<AppFactory>
{
    private const string Password = "Str0ng!pass";

    private Task<HttpClient> SignedInAsync(string? role) => FormClient.SignedInAsync(app, role, Password);

    private AppDbContext Db() => app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();

    /// <summary>A user added straight to the table: an address Identity's form would refuse, as an import might bring.</summary>
    private async Task<string> UserAsync(string email)
    {
        await using var db = Db();
        var user = new AppUser { UserName = Guid.NewGuid().ToString("N"), Email = email, NormalizedEmail = email.ToUpperInvariant() };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    private static UsageRecord Row(string user, DateTimeOffset at, string model, int prompt, int completion) => new()
    {
        UserId = user, CreatedAt = at, Model = model, Plan = "Pro", PromptTokens = prompt, CompletionTokens = completion, LatencyMs = 80,
        Status = CompletionStatus.Complete, Source = UsageSource.Chat,
    };

    private async Task<List<AuditEntry>> AuditAsync(string action, string target)
    {
        await using var db = Db();
        return await db.AuditEntries.Where(e => e.Action == action && e.Target == target).ToListAsync();
    }

    [Fact]
    public async Task TokensByModelCsvHoldsTheRollupsWithQuotedFields()
    {
        var day = new DateOnly(2025, 6, 2);
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        var user = await UserAsync($"csv-{Guid.NewGuid():N}@example.com");
        await using (var db = Db())
        {
            db.UsageRecords.AddRange(Row(user, at, "mini,\"v2\"", 10, 20), Row(user, at.AddHours(1), "mini,\"v2\"", 1, 2), Row(user, at, "plain", 5, 5));
            await db.SaveChangesAsync();
        }
        await app.Services.GetRequiredService<UsageAggregator>().AggregateDayAsync(day);
        var admin = await SignedInAsync(Roles.Admin);

        var response = await admin.GetAsync("/admin/api/usage/tokens-by-model.csv?from=2025-06-02&to=2025-06-02");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("usage-tokens-by-model-2025-06-02-2025-06-02.csv", response.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal(
            "day,model,prompt_tokens,completion_tokens,total_tokens\r\n" +
            "2025-06-02,\"mini,\"\"v2\"\"\",11,22,33\r\n" +
            "2025-06-02,plain,5,5,10\r\n",
            await response.Content.ReadAsStringAsync());
        // Other tests of the class download this table too, for other dates.
        var entry = Assert.Single(await AuditAsync(AuditActions.Export, "usage/tokens-by-model.csv"), e => e.Details!.StartsWith("2025-06-02", StringComparison.Ordinal));
        Assert.Equal("2025-06-02..2025-06-02; 2 rows", entry.Details);
    }

    [Fact]
    public async Task TopUsersCsvKeepsAFormulaLikeEmailAsTextWhenAskedAboutThatUser()
    {
        var day = new DateOnly(2025, 6, 9);
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        var email = $"=cmd|'/c calc'!A1,{Guid.NewGuid():N}@example.com";
        var user = await UserAsync(email);
        await using (var db = Db())
        {
            db.UsageRecords.Add(Row(user, at, "plain", 7, 8));
            await db.SaveChangesAsync();
        }
        await app.Services.GetRequiredService<UsageAggregator>().AggregateDayAsync(day);
        var admin = await SignedInAsync(Roles.Admin);

        var csv = await admin.GetStringAsync($"/admin/api/usage/top-users.csv?from=2025-06-09&to=2025-06-09&user={Uri.EscapeDataString(email)}");

        Assert.Equal(
            "user_hash,email,requests,errors,prompt_tokens,completion_tokens,total_tokens\r\n" +
            $"{KeyedHash(user)},\"'{email}\",1,0,7,8,15\r\n", csv);
    }

    [Fact]
    public async Task TopUsersCsvOfEveryoneNamesUsersByKeyedHashWithoutEmails()
    {
        var day = new DateOnly(2025, 6, 11);
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        var email = $"top-{Guid.NewGuid():N}@example.com";
        var user = await UserAsync(email);
        await using (var db = Db())
        {
            db.UsageRecords.Add(Row(user, at, "plain", 3, 4));
            await db.SaveChangesAsync();
        }
        await app.Services.GetRequiredService<UsageAggregator>().AggregateDayAsync(day);
        var admin = await SignedInAsync(Roles.Admin);

        var csv = await admin.GetStringAsync("/admin/api/usage/top-users.csv?from=2025-06-11&to=2025-06-11");

        Assert.Equal(
            "user_hash,email,requests,errors,prompt_tokens,completion_tokens,total_tokens\r\n" +
            $"{KeyedHash(user)},,1,0,3,4,7\r\n", csv);
        Assert.DoesNotContain(user, csv);
    }

    /// <summary>HMAC-SHA256 of the id under the tests' key, first 32 hex characters: computed here, not by the app.</summary>
    private static string KeyedHash(string userId) => Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(AppFactory.UserIdKey), System.Text.Encoding.UTF8.GetBytes(userId)))[..32];

    [Fact]
    public async Task AnUnknownTableIsNotFoundAndAReversedRangeIsABadRequest()
    {
        var admin = await SignedInAsync(Roles.Admin);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/api/usage/passwords.csv")).StatusCode);
        var reversed = await admin.GetAsync("/admin/api/usage/requests.csv?from=2025-06-09&to=2025-06-01");
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
        Assert.Contains("before the start date", await reversed.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/admin/api/usage/tokens-by-model.csv")]
    [InlineData("/admin/api/usage/top-users.csv")]
    [InlineData("/admin/api/feedback/preferences.jsonl")]
    public async Task OnlyAdminsGetTheDownloads(string path)
    {
        var user = await SignedInAsync(null);
        var anonymous = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var asUser = await user.GetAsync(path);
        var asAnonymous = await anonymous.GetAsync(path);

        // Forbidden: the API's 403, or the cookie scheme's way of saying it, the access-denied page.
        Assert.True(asUser.StatusCode == HttpStatusCode.Forbidden
            || (asUser.StatusCode == HttpStatusCode.Redirect && asUser.Headers.Location!.PathAndQuery.StartsWith("/Account/AccessDenied", StringComparison.Ordinal)),
            $"{path} as a user: {(int)asUser.StatusCode} {asUser.Headers.Location}");
        Assert.True(asAnonymous.StatusCode == HttpStatusCode.Unauthorized
            || (asAnonymous.StatusCode == HttpStatusCode.Redirect && asAnonymous.Headers.Location!.PathAndQuery.StartsWith("/Account/Login", StringComparison.Ordinal)),
            $"{path} anonymously: {(int)asAnonymous.StatusCode} {asAnonymous.Headers.Location}");
        Assert.DoesNotContain("text/csv", asUser.Content.Headers.ContentType?.ToString() ?? "");
        Assert.Equal(HttpStatusCode.OK, (await (await SignedInAsync(Roles.Admin)).GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task PreferenceExportWritesOneLinePerPairWithThePromptUpToTheTurn()
    {
        var owner = await UserAsync($"prefs-{Guid.NewGuid():N}@example.com");
        var model = $"pref-model-{Guid.NewGuid():N}"; // this test's pairs only, whatever other tests add
        var t0 = new DateTimeOffset(2025, 7, 1, 9, 0, 0, TimeSpan.Zero);
        var conversation = new Conversation { UserId = owner, Model = model };
        var hello = new Message { ConversationId = conversation.Id, Role = MessageRole.User, Content = "Say \"hi\"\nplease", CreatedAt = t0 };
        var good = Reply(conversation, hello, "hi \u2014 \"quoted\"", 1, t0.AddSeconds(1), model);
        var bad = Reply(conversation, hello, "no", -1, t0.AddSeconds(2), model);
        var unrated = Reply(conversation, hello, "maybe", null, t0.AddSeconds(3), model);
        await using (var db = Db())
        {
            db.Conversations.Add(conversation);
            db.Messages.AddRange(hello, good, bad, unrated);
            await db.SaveChangesAsync();
        }
        var admin = await SignedInAsync(Roles.Admin);

        var response = await admin.GetAsync($"/admin/api/feedback/preferences.jsonl?from=2025-07-01&to=2025-07-01&model={model}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var pairs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var pair in pairs)
        {
            var prompt = Assert.Single(pair.GetProperty("prompt").EnumerateArray());
            Assert.Equal(("user", "Say \"hi\"\nplease"), (prompt.GetProperty("role").GetString(), prompt.GetProperty("content").GetString()));
            var chosen = Assert.Single(pair.GetProperty("chosen").EnumerateArray());
            Assert.Equal(("assistant", "hi \u2014 \"quoted\""), (chosen.GetProperty("role").GetString(), chosen.GetProperty("content").GetString()));
            Assert.Equal(conversation.Id, pair.GetProperty("conversation_id").GetGuid());
        }
        Assert.Equal(["maybe", "no"], pairs.Select(p => p.GetProperty("rejected")[0].GetProperty("content").GetString()).Order());
        Assert.Contains(await AuditAsync(AuditActions.Export, "feedback/preferences.jsonl"), e => e.Details!.Contains(model, StringComparison.Ordinal));

        var otherDay = await admin.GetStringAsync($"/admin/api/feedback/preferences.jsonl?from=2025-07-02&model={model}");
        Assert.Equal("", otherDay);
    }

    private static Message Reply(Conversation conversation, Message parent, string content, short? rating, DateTimeOffset at, string model) => new()
    {
        ConversationId = conversation.Id, ParentId = parent.Id, Role = MessageRole.Assistant, Content = content, Rating = rating, CreatedAt = at,
        Model = model, Status = CompletionStatus.Complete,
    };
}
