using System.Globalization;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Replies;
using ChatBlazor.E2E.Fleet;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.E2E.Load;

/// <summary>
/// Where the load benchmark's chats go. With CHATBLAZOR_BENCH_URL: that installation (the NGINX fleet; a self-signed
/// certificate is accepted for that host only), its accounts from CHATBLAZOR_BENCH_USERS (a file of "email password"
/// lines, e.g. made with <c>scripts/cluster.sh admin create-user</c>) or else registered, its database checked when
/// CHATBLAZOR_BENCH_POSTGRES names it. Without: a fleet of its own, two web processes on one database and Redis, the
/// replies from a scripted model host that streams numbered words at a fixed pace (a real model on these two cores
/// would be the limit itself: this measures what the web fleet holds, the model host's capacity is the engine
/// benchmark's).
/// </summary>
public sealed class BenchTarget : IAsyncDisposable
{
    public const int ReplyWords = 40;
    public static readonly TimeSpan WordPace = TimeSpan.FromMilliseconds(50);
    private const string Password = "Str0ng!pass";

    private readonly FleetApp? _app;
    private readonly List<WebProcess> _instances = [];
    private readonly List<(string Email, string Password)> _accounts = [];

    private BenchTarget(string description, string[] urls, string? trustedHost, string? database, FleetApp? app)
        => (Description, Urls, TrustedHost, Database, _app) = (description, urls, trustedHost, database, app);

    public string Description { get; }
    private string[] Urls { get; }
    private string? TrustedHost { get; }
    private string? Database { get; }

    /// <summary>The database is read to confirm each message and reply were stored; without it, only what the page showed counts.</summary>
    public bool ChecksDatabase => Database is not null;

    /// <summary>This benchmark's own fleet: its app only creates and reads the database; the two instances serve and reply.</summary>
    private sealed class FleetApp : LoadApp
    {
        protected override string RepliesRole => "Ui";
    }

    public static async Task<BenchTarget> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("CHATBLAZOR_BENCH_URL") is { Length: > 0 } url)
        {
            var uri = new Uri(url);
            var target = new BenchTarget($"{url} (CHATBLAZOR_BENCH_URL)", [url], uri.Scheme == "https" ? uri.Host : null,
                Environment.GetEnvironmentVariable("CHATBLAZOR_BENCH_POSTGRES") is { Length: > 0 } db ? db : null, null);
            if (Environment.GetEnvironmentVariable("CHATBLAZOR_BENCH_USERS") is { Length: > 0 } users)
                foreach (var line in File.ReadAllLines(users).Select(l => l.Split(' ', 2, StringSplitOptions.TrimEntries)).Where(l => l.Length == 2))
                    target._accounts.Add((line[0], line[1]));
            return target;
        }
        // Replies:Workers caps the replies an instance runs at once; CHATBLAZOR_BENCH_WORKERS raises it, to see what
        // the fleet holds past that setting.
        var workers = Environment.GetEnvironmentVariable("CHATBLAZOR_BENCH_WORKERS") is { Length: > 0 } w ? w : null;
        var app = new FleetApp();
        await app.InitializeAsync();
        app.Model.AutoReply = true;
        app.Model.PacedWords = ReplyWords;
        app.Model.Pace = WordPace;
        var self = new BenchTarget($"two web processes (Replies:Workers {workers ?? new ReplyOptions().Workers.ToString(CultureInfo.InvariantCulture)} each), "
            + $"scripted model host ({ReplyWords} words, one per {WordPace.TotalMilliseconds} ms)", [], null, app.ConnectionString, app);
        try
        {
            var more = workers is null ? null : new Dictionary<string, string> { ["Replies:Workers"] = workers };
            self._instances.Add(await app.StartInstanceAsync(more));
            self._instances.Add(await app.StartInstanceAsync(more));
        }
        catch
        {
            await self.DisposeAsync();
            throw;
        }
        return self;
    }

    /// <summary>The web servers' processes, for their CPU time: this fleet's, or every ChatBlazor.Web on this machine.</summary>
    public IReadOnlyList<int> ServerProcesses() => _app is not null
        ? [.. _instances.Select(i => i.ProcessId)]
        : [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => int.TryParse(d, out _)).Select(int.Parse!)
            .Where(pid => ProcessCpu.CommandLine(pid).Contains("ChatBlazor.Web.dll", StringComparison.Ordinal))];

    /// <summary>A signed-in client for chat <paramref name="index"/>; a fleet of its own is balanced by turns, as a proxy would by user.</summary>
    public async Task<CircuitClient> SignInAsync(int index)
    {
        var url = _app is not null ? _instances[index % _instances.Count].BaseUrl : Urls[0];
        if (_accounts.Count > 0)
        {
            var (email, password) = _accounts[index % _accounts.Count];
            return await CircuitClient.SignInAsync(url, email, password, TrustedHost);
        }
        return await CircuitClient.RegisterAsync(url, $"load-{Guid.NewGuid():N}@example.com", Password, TrustedHost);
    }

    /// <summary>Every reply's text, where this benchmark's own model host writes it; null for a real model's.</summary>
    public string? ExpectedReply => _app?.Model.AutoReplyText.Trim();

    /// <summary>
    /// How many of a chat's messages were not stored with an answer (per message, the user's text and, as its child, a
    /// reply stored as answered, with text: the model host's, where that is known), and the stored replies' time
    /// to first token as their worker measured it from the model host's stream. A reply still being written is waited
    /// for until <paramref name="settled"/>: a late reply is not a lost one.
    /// </summary>
    public async Task<(int Lost, List<double> EngineFirstTokenMs)> CheckStoredAsync(Guid? conversation, IReadOnlyList<string> messages, DateTime settled)
    {
        if (conversation is not { } id)
            return (messages.Count, []);
        await using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql(Database).Options);
        while (true)
        {
            var stored = await db.Messages.AsNoTracking().Where(m => m.ConversationId == id).ToListAsync();
            var replies = messages.Select(message =>
            {
                var question = stored.FirstOrDefault(m => m.Role == MessageRole.User && m.Content == message);
                return question is null ? null : stored.FirstOrDefault(m => m.ParentId == question.Id && m.Role == MessageRole.Assistant);
            }).ToList();
            if (replies.Any(r => r is null || !r.Status.IsFinal()) && DateTime.UtcNow < settled)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500)); // polling a condition with a deadline
                continue;
            }
            // Answered: complete, or cut at its length limit or by moderation, as a real model's reply may be.
            var lost = replies.Count(reply => reply is not { Status: CompletionStatus.Complete or CompletionStatus.Length or CompletionStatus.Filtered }
                || (reply.Status != CompletionStatus.Filtered && reply.Content.Trim().Length == 0)
                || (ExpectedReply is { } expected && reply.Content.Trim() != expected));
            return (lost, [.. replies.Select(r => r?.TimeToFirstTokenMs).OfType<int>().Select(ms => (double)ms)]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
            await instance.DisposeAsync();
        if (_app is not null)
            await ((IAsyncLifetime)_app).DisposeAsync();
    }
}
