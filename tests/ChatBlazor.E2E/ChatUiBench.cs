using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Identity;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E;

/// <summary>
/// Measurements of the chat page in Chromium, not tests: <c>scripts/bench-ui.sh</c> runs them, <c>./test.sh</c> leaves
/// them out (Category=Bench). A paced engine double sends numbered tokens ("w0 w1 …") at a fixed rate and notes the
/// wall-clock time each one leaves the engine; a MutationObserver in the page notes when each first appears in the
/// DOM. Browser and server share this machine's clock. Results go to the test output and .data/bench/chat-ui.json.
/// </summary>
[Trait("Category", "Bench")]
public sealed class ChatUiBench(ChatUiBench.PacedApp app, ITestOutputHelper output) : IClassFixture<ChatUiBench.PacedApp>
{
    /// <summary>Test double: each reply is <see cref="Tokens"/> numbered words, one every <see cref="Interval"/>.</summary>
    public sealed class PacedEngineDouble : IInferenceEngine
    {
        public int Tokens { get; set; } = 100;
        public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(50);

        /// <summary>(the user's message, token index) → Unix time in ms when the token left the engine.</summary>
        public ConcurrentDictionary<(string Message, int Index), double> Sent { get; } = new();

        public IReadOnlyList<ModelInfo> Models { get; } = [new("paced-double", 65536)];

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var message = request.Messages![^1].Content;
            if (message.StartsWith(TitlePrompt.Instruction, StringComparison.Ordinal))
            {
                yield return new GenerationChunk("Bench chat", [], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(1, 2));
                yield break;
            }
            using var timer = new PeriodicTimer(Interval);
            for (var k = 0; k < Tokens; k++)
            {
                await timer.WaitForNextTickAsync(cancellationToken);
                Sent[(message, k)] = UnixMs();
                var last = k == Tokens - 1;
                yield return new GenerationChunk($"w{k} ", [], FinishReason: last ? FinishReason.Stop : null, Usage: last ? new GenerationUsage(10, Tokens) : null);
            }
        }
    }

    public sealed class PacedApp : BrowserApp
    {
        public PacedEngineDouble Engine { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IInferenceEngine>(Engine));
        }
    }

    private static double UnixMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    // Records, for each "wN" in the last reply, the wall-clock time it was first in the DOM.
    internal const string ObserveScript = """
        () => {
          window.__seen = {};
          const scan = () => {
            const now = performance.timeOrigin + performance.now();
            const replies = document.querySelectorAll('[data-testid="message-assistant"] .markdown');
            const last = replies[replies.length - 1];
            if (!last) return;
            for (const w of last.textContent.match(/w\d+/g) || []) if (!(w in window.__seen)) window.__seen[w] = now;
          };
          new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true });
        }
        """;

    private async Task<List<double>> LatenciesAsync(IPage page, string message)
    {
        var seen = await page.EvaluateAsync<Dictionary<string, double>>("() => window.__seen");
        return [.. seen.Select(s => s.Value - app.Engine.Sent[(message, int.Parse(s.Key[1..]))])];
    }

    private async Task StreamAsync(IPage page, string message)
    {
        var replies = page.GetByTestId("message-assistant");
        var before = await replies.CountAsync();
        await page.EvaluateAsync(ObserveScript);
        await ChatFlowTests.SendAsync(page, message);
        await Expect(replies).ToHaveCountAsync(before + 1); // the new reply, not the last old one
        await Expect(replies.Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 120_000 });
    }

    [Fact]
    public async Task TokenToDomLatencyInANewAndInA200MessageConversation()
    {
        var fresh = await ChatFlowTests.SignedInPageAsync(app);
        await StreamAsync(fresh, "warm-up");
        await fresh.GotoAsync("/chat");
        await Expect(fresh.GetByTestId("chat-input")).ToBeEnabledAsync();
        await StreamAsync(fresh, "short chat");
        var shortChat = await LatenciesAsync(fresh, "short chat");

        // 200 messages of Markdown already in the conversation, then one more streamed reply.
        var (page, email) = await ChatFlowTests.SignedInAsync(app);
        var userId = await UserIdAsync(email);
        var store = app.Services.GetRequiredService<ConversationStore>();
        var chat = await store.CreateAsync(userId, "paced-double");
        Guid? parent = null;
        for (var i = 0; i < 100; i++)
        {
            var question = await store.AddUserMessageAsync(userId, chat.Id, parent, $"Question {i}: how does *this* work?");
            var reply = await store.StartReplyAsync(userId, chat.Id, question!.Id, Guid.CreateVersion7(), "paced-double");
            var claim = await store.ClaimReplyAsync(reply!.Id);
            await store.FinishReplyAsync(reply.Id, claim!.Attempt, $"Answer {i}. It works like **this**:\n\n- one\n- two\n\n```csharp\nvar x = {i};\n```\n\n| a | b |\n|---|---|\n| {i} | {i * 2} |",
                new ReplyOutcome(CompletionStatus.Complete));
            parent = reply.Id;
        }
        await page.GotoAsync($"/chat/{chat.Id}");
        // The page opens on the latest 50 messages; all 200 in the page, as before windowing, for a like comparison.
        while (await page.GetByTestId("show-earlier").CountAsync() > 0)
        {
            var shown = await page.GetByTestId("message-assistant").CountAsync();
            await page.GetByTestId("show-earlier").ClickAsync();
            await Expect(page.GetByTestId("message-assistant")).Not.ToHaveCountAsync(shown);
        }
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(100);
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();
        await StreamAsync(page, "long chat");
        var longChat = await LatenciesAsync(page, "long chat");

        Report("token_to_dom_new_chat", shortChat);
        Report("token_to_dom_200_messages", longChat);
        Assert.Equal(app.Engine.Tokens, shortChat.Count);
        Assert.Equal(app.Engine.Tokens, longChat.Count);
    }

    [Fact]
    public async Task MemoryPerStreamingCircuitAndLatencyWith50ConcurrentChats()
    {
        const int Chats = 50;
        var warmUp = await ChatFlowTests.SignedInPageAsync(app); // the app's first circuit, caches and pools
        await StreamAsync(warmUp, "warm-up");
        await warmUp.Context.CloseAsync();
        var before = ServerMemory(); // no circuit open: what 50 streaming chats add is theirs
        var pages = new List<IPage>();
        for (var i = 0; i < Chats; i++)
            pages.Add(await ChatFlowTests.SignedInPageAsync(app));

        // All 50 send at once; measure while every reply is streaming, then let them finish.
        var messages = Enumerable.Range(0, Chats).Select(i => $"chat {i}").ToArray();
        await Task.WhenAll(pages.Select((p, i) => p.EvaluateAsync(ObserveScript).ContinueWith(_ => ChatFlowTests.SendAsync(p, messages[i])).Unwrap()));
        await Task.WhenAll(pages.Select(p => Expect(p.GetByTestId("message-assistant").Last).ToContainTextAsync("w20", new() { Timeout = 120_000 })));
        var during = ServerMemory();
        await Task.WhenAll(pages.Select(p => Expect(p.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 120_000 })));

        var latencies = new List<double>();
        for (var i = 0; i < Chats; i++)
            latencies.AddRange(await LatenciesAsync(pages[i], messages[i]));
        Report("token_to_dom_50_chats", latencies);
        var perCircuit = new
        {
            managed_mb = (during.Managed - before.Managed) / Chats / 1e6,
            working_set_mb = (during.WorkingSet - before.WorkingSet) / Chats / 1e6,
            before_managed_mb = before.Managed / 1e6, during_managed_mb = during.Managed / 1e6,
            before_working_set_mb = before.WorkingSet / 1e6, during_working_set_mb = during.WorkingSet / 1e6,
        };
        BenchResults.Save("chat-ui.json", "memory_per_streaming_circuit", perCircuit);
        output.WriteLine($"memory per streaming circuit: {perCircuit}");
        Assert.Equal(Chats * app.Engine.Tokens, latencies.Count);
        foreach (var p in pages)
            await p.Context.CloseAsync();
    }

    // The server shares this process with the test runner; the runner's own part is the same before and during.
    private static (long Managed, long WorkingSet) ServerMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    private async Task<string> UserIdAsync(string email)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        return (await users.FindByEmailAsync(email))!.Id;
    }

    private void Report(string name, List<double> latencies)
    {
        var summary = BenchResults.Summarize(latencies);
        output.WriteLine($"{name}: {summary}");
        BenchResults.Save("chat-ui.json", name, summary);
    }
}
