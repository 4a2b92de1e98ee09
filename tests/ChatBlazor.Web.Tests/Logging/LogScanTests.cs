using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Replies;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ChatBlazor.Web.Tests.Logging;

/// <summary>
/// Test double: a sink that keeps every line the app logs, formatted as the stdout sink writes them, after the
/// app's redaction (it is registered as an <see cref="ILogEventSink"/> service, which the logging setup wraps).
/// </summary>
public sealed class LogCaptureDouble : ILogEventSink
{
    private readonly RenderedCompactJsonFormatter _json = new();

    public ConcurrentQueue<string> Lines { get; } = new();

    public void Emit(LogEvent logEvent)
    {
        var line = new StringWriter();
        _json.Format(logEvent, line);
        Lines.Enqueue(line.ToString());
    }
}

/// <summary>
/// A run of the app that signs up, chats and calls /v1 with personal data in every prompt, then a scan of every
/// line it logged: none holds an email, card, phone number, secret or raw user id.
/// </summary>
public class LogScanTests(LogScanTests.Factory app) : IClassFixture<LogScanTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public ReleasedEngineDouble Engine { get; } = new("released");
        public LogCaptureDouble Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services
                .AddSingleton<IInferenceEngine>(Engine)
                .AddSingleton<ILogEventSink>(Logs));
        }
    }

    private const string PromptEmail = "maria.lopez@example.org";
    private const string Card = "4111 1111 1111 1111";          // Luhn-valid
    private const string CompactCard = "5555555555554444";      // Luhn-valid
    private const string Phone = "+44 20 7946 0958";
    private const string OpenAiKey = "sk-proj-Zx81Qp0Lm2Nv7Rt4Ws9Yk3Hd6Jf5Gb1";
    private const string AwsKey = "AKIAIOSFODNN7EXAMPLE";
    private static readonly string Prompt = $"Mail {PromptEmail} or call {Phone}; my card is {Card} (backup {CompactCard}); keys {OpenAiKey} and {AwsKey}.";

    private async Task WaitAsync(Func<bool> condition, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !condition() && DateTime.UtcNow < deadline; await Task.Delay(50)) // polling a condition
        {
        }
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task NoLogLineOfARunWithPersonalDataInEveryPromptHoldsAnyOfIt()
    {
        // Sign-up with an account email.
        var signUpEmail = $"signup-{Guid.NewGuid():N}@example.com";
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await FormClient.SubmitAsync(browser, "/Account/Register", new()
        {
            ["Input.Email"] = signUpEmail, ["Input.Password"] = "Str0ng!pass", ["Input.ConfirmPassword"] = "Str0ng!pass",
        });
        string signedUpId;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
            signedUpId = (await db.Users.SingleAsync(u => u.Email == signUpEmail)).Id;

        // /v1: a completion, a moderation and a path with an email in it.
        var (apiUser, key) = await app.UserWithKeyAsync();
        var api = app.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        app.Engine.Release("Noted: ", PromptEmail, " and ", Card, "<end>");
        var completion = await api.PostAsJsonAsync("/v1/chat/completions", new { model = "released", messages = new[] { new { role = "user", content = Prompt } } });
        await api.PostAsJsonAsync("/v1/moderations", new { input = Prompt });
        var unknown = await api.GetAsync($"/v1/files/{PromptEmail}");

        // A chat turn, through the reply jobs the chat page uses.
        var store = app.Services.GetRequiredService<ConversationStore>();
        var chat = await store.CreateAsync(signedUpId, "released");
        var question = await store.AddUserMessageAsync(signedUpId, chat.Id, null, Prompt);
        var reply = await app.Services.GetRequiredService<ReplyJobs>().StartAsync(signedUpId, chat.Id, question!.Id);
        app.Engine.Release("Your card ", Card, " and ", Phone, "<end>");
        if (reply is { } replyId)
            await WaitAsync(() =>
            {
                using var db = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();
                return db.Messages.Any(m => m.Id == replyId && m.Status != CompletionStatus.Queued && m.Status != CompletionStatus.Streaming);
            }, "the chat reply settles");

        // A line of the app's own with the data in its template, properties and exception.
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ChatBlazor.Web.Tests.Logging").LogError(
            new InvalidOperationException($"Payment of {signUpEmail} with {Card} failed"),
            $"Charge for {PromptEmail} failed" + " for {UserId} ({Email}, {Phone})", apiUser, signUpEmail, Phone);
        await WaitAsync(() => app.Logs.Lines.Any(l => l.Contains("\"Route\":\"/v1/{**path}\"", StringComparison.Ordinal)), "the request line of the unknown path");

        var lines = app.Logs.Lines.ToList();
        Assert.True(completion.IsSuccessStatusCode || (int)completion.StatusCode == 400, $"{completion.StatusCode}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
        // The run was logged: the sign-up and the completion have their lines.
        Assert.Contains(lines, l => l.Contains("User created an account", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"RequestPath\":\"/v1/chat/completions\"", StringComparison.Ordinal));
        var personal = new[] { PromptEmail, signUpEmail, Card, CompactCard, Phone, OpenAiKey, AwsKey, "Str0ng!pass", signedUpId, apiUser, key };
        foreach (var line in lines)
            foreach (var value in personal)
                Assert.False(line.Contains(value, StringComparison.OrdinalIgnoreCase), $"A log line holds '{value}': {line}");
        // The values were there to be found: redacted in place, the user id as its keyed hash.
        Assert.Contains(lines, l => l.Contains("\"RequestPath\":\"/v1/files/[EMAIL]\"", StringComparison.Ordinal));
        var own = Assert.Single(lines, l => l.Contains("Charge for", StringComparison.Ordinal));
        Assert.Contains("Charge for [EMAIL] failed", own);
        Assert.Contains(ElasticsearchSinkTests.KeyedHash(apiUser), own);
        Assert.Contains("Payment of [EMAIL] with [CARD] failed", own);
        Assert.Contains(lines, l => l.Contains("\"@tr\":\"", StringComparison.Ordinal) && l.Contains("\"@sp\":\"", StringComparison.Ordinal));
    }
}
