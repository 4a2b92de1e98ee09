using System.Diagnostics;
using System.Globalization;
using ChatBlazor.Testing;
using Xunit.Abstractions;

namespace ChatBlazor.E2E.Load;

/// <summary>
/// How many concurrent streaming chats a two-instance fleet holds on this machine, and where the limit comes from: a
/// measurement, not a test (<c>scripts/bench-fleet.sh</c> runs it; <c>./test.sh</c> leaves Category=Bench out). Each
/// step opens N chats, each a user on a circuit of its own (<see cref="CircuitClient"/>, no browser), which for a
/// fixed time send a message as soon as the last reply ended. A step records the chats held, messages sent, late (the
/// page did not see the reply end within a minute) and lost (the database does not hold the message with an answered
/// reply, even two minutes after the step), time to first reply text and the gaps between reply text batches, and the
/// CPU the web servers and the whole machine used. The steps stop at the first that loses or delays a message, drops
/// a chat, or whose p95 time to first text exceeds the bound. Results go to the test output and
/// .data/bench/fleet-load.json.
/// Settings: CHATBLAZOR_BENCH_STEPS (10,20,40,80,160), CHATBLAZOR_BENCH_STEP_SECONDS (60), CHATBLAZOR_BENCH_TURNS (4),
/// CHATBLAZOR_BENCH_FIRST_TOKEN_MS (2000), and the target's (<see cref="BenchTarget"/>, CHATBLAZOR_BENCH_WORKERS among them).
/// </summary>
[Trait("Category", "Bench")]
public sealed class FleetLoadBench(ITestOutputHelper output)
{
    private static readonly int[] Steps = [.. Setting("CHATBLAZOR_BENCH_STEPS", "10,20,40,80,160").Split(',').Select(int.Parse)];
    private static readonly TimeSpan StepTime = TimeSpan.FromSeconds(double.Parse(Setting("CHATBLAZOR_BENCH_STEP_SECONDS", "60"), CultureInfo.InvariantCulture));
    private static readonly double FirstTextBoundMs = double.Parse(Setting("CHATBLAZOR_BENCH_FIRST_TOKEN_MS", "2000"), CultureInfo.InvariantCulture);
    // A reply the page has not seen end this long after it was sent is late, and its chat stops; the step itself is
    // bounded by StepTime plus this. A late reply is lost if the database does not hold it complete Settle later.
    private static readonly TimeSpan ReplyDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);
    private const int OpeningAtOnce = 8;
    // Messages per conversation before a chat starts a new one: a real model's context window fills in a long chat
    // (the shipped model's 1,024 tokens after a few turns), and then replies fail for that, not for load.
    private static readonly int TurnsPerChat = int.Parse(Setting("CHATBLAZOR_BENCH_TURNS", "4"), CultureInfo.InvariantCulture);

    public sealed record Step(int Chats, int ChatsOpened, int ChatsHeld, int MessagesSent, int MessagesLate, int MessagesLost, double Seconds,
        double FirstTextP50Ms, double FirstTextP95Ms, double EngineFirstTokenP50Ms, double EngineFirstTokenP95Ms,
        double InterTextP50Ms, double InterTextP95Ms, double BatchesPerReply,
        double WebServerCores, double BenchProcessCores, double MachineBusy, double LoadAverage, List<string> Failures);

    [Fact]
    public async Task ConcurrentStreamingChatsTheFleetHoldsWithoutLosingAMessage()
    {
        await using var target = await BenchTarget.StartAsync();
        output.WriteLine($"fleet-load: target {target.Description}; database {(target.ChecksDatabase ? "checked" : "not checked")}; {Environment.ProcessorCount} cores");
        var steps = new List<Step>();
        string? stoppedBy = null;
        foreach (var chats in Steps)
        {
            var step = await RunAsync(target, chats);
            steps.Add(step);
            output.WriteLine($"fleet-load: {Row(step)}");
            if (step.MessagesLost > 0 || step.MessagesLate > 0 || step.ChatsHeld < step.Chats)
                stoppedBy = $"{chats} chats: {step.MessagesLost} messages lost, {step.MessagesLate} late, {step.Chats - step.ChatsHeld} chats not held ({string.Join("; ", step.Failures.Distinct().Take(3))})";
            else if (step.FirstTextP95Ms > FirstTextBoundMs)
                stoppedBy = $"{chats} chats: p95 time to first text {step.FirstTextP95Ms:F0} ms > {FirstTextBoundMs:F0} ms";
            if (stoppedBy is not null)
                break;
        }

        var held = steps.LastOrDefault(s => s.MessagesLost == 0 && s.MessagesLate == 0 && s.ChatsHeld == s.Chats && s.FirstTextP95Ms <= FirstTextBoundMs)?.Chats ?? 0;
        BenchResults.Save("fleet-load.json", "fleet_load", new
        {
            target = target.Description, database_checked = target.ChecksDatabase, cores = Environment.ProcessorCount,
            step_seconds = StepTime.TotalSeconds, first_text_bound_ms = FirstTextBoundMs, chats_held = held, stopped_by = stoppedBy, steps,
        });
        output.WriteLine($"fleet-load: {Header}");
        foreach (var step in steps)
            output.WriteLine($"fleet-load: {Row(step)}");
        output.WriteLine($"fleet-load: held {held} concurrent streaming chats; stopped by: {stoppedBy ?? "none (the last step passed)"}");
        Assert.NotEmpty(steps);
        Assert.All(steps, step => Assert.True(step.MessagesSent > 0, $"{step.Chats} chats sent nothing: {string.Join("; ", step.Failures.Take(3))}"));
    }

    /// <summary>A user's messages in one step, by the conversation they went to.</summary>
    private sealed record Chat(List<(Guid? Conversation, string Message)> Messages, List<CircuitClient.Reply> Completed, int Late, string? Failure);

    private async Task<Step> RunAsync(BenchTarget target, int chats)
    {
        // Every chat signs in and opens its page before the clock starts, a few at a time: a step measures chats held,
        // not a storm of sign-ups (each hashes a password: 160 at once took over a minute here).
        using var gate = new SemaphoreSlim(OpeningAtOnce);
        var opened = await Task.WhenAll(Enumerable.Range(0, chats).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var client = await target.SignInAsync(i);
                await client.OpenChatAsync();
                return (Client: (CircuitClient?)client, Failure: (string?)null);
            }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TimeoutException or TaskCanceledException)
            {
                return (Client: (CircuitClient?)null, Failure: (string?)$"open: {e.Message}");
            }
            finally
            {
                gate.Release();
            }
        }));
        var clients = opened.Where(o => o.Client is not null).Select(o => o.Client!).ToList();
        try
        {
            var servers = target.ServerProcesses();
            var (webBefore, selfBefore, machineBefore) = (ProcessCpu.Seconds(servers), ProcessCpu.Seconds([Environment.ProcessId]), ProcessCpu.Machine());
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(clients.Select((client, i) => ChatAsync(client, $"load {chats}/{i}", clock)));
            var seconds = clock.Elapsed.TotalSeconds;
            var machineAfter = ProcessCpu.Machine();
            var webCores = (ProcessCpu.Seconds(servers) - webBefore) / seconds;
            var selfCores = (ProcessCpu.Seconds([Environment.ProcessId]) - selfBefore) / seconds;
            var busy = (double)(machineAfter.Busy - machineBefore.Busy) / Math.Max(1, machineAfter.Total - machineBefore.Total);

            var (lost, engineFirst, settled) = (0, new List<double>(), DateTime.UtcNow + Settle);
            foreach (var chat in results)
            {
                if (!target.ChecksDatabase)
                {
                    lost += chat.Messages.Count - chat.Completed.Count;
                    continue;
                }
                foreach (var conversation in chat.Messages.GroupBy(m => m.Conversation))
                {
                    var stored = await target.CheckStoredAsync(conversation.Key, [.. conversation.Select(m => m.Message)], settled);
                    lost += stored.Lost;
                    engineFirst.AddRange(stored.EngineFirstTokenMs);
                }
            }
            var replies = results.SelectMany(r => r.Completed).ToList();
            var first = replies.Where(r => r.TextBatches.Count > 0).Select(r => r.TextBatches[0]).ToList();
            var gaps = replies.SelectMany(r => r.TextBatches.Zip(r.TextBatches.Skip(1), (a, b) => b - a)).ToList();
            var failures = opened.Select(o => o.Failure).Concat(results.Select(r => r.Failure)).OfType<string>().ToList();
            return new Step(chats, clients.Count, results.Count(r => r.Failure is null), results.Sum(r => r.Messages.Count),
                results.Sum(r => r.Late), lost, Math.Round(seconds, 1),
                Percentile(first, 0.5), Percentile(first, 0.95), Percentile(engineFirst, 0.5), Percentile(engineFirst, 0.95),
                Percentile(gaps, 0.5), Percentile(gaps, 0.95), replies.Count == 0 ? 0 : Math.Round(replies.Average(r => r.Batches), 1),
                Math.Round(webCores, 2), Math.Round(selfCores, 2), Math.Round(busy, 2), LoadAverage(), failures);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    /// <summary>One chat for the step's time: a message, its whole reply, the next message.</summary>
    private static async Task<Chat> ChatAsync(CircuitClient client, string name, Stopwatch clock)
    {
        var (messages, completed, late) = (new List<(Guid?, string)>(), new List<CircuitClient.Reply>(), 0);
        string? failure = null;
        while (clock.Elapsed < StepTime && failure is null)
        {
            var text = $"{name} message {messages.Count}";
            CircuitClient.Reply? reply = null;
            try
            {
                if (messages.Count > 0 && messages.Count % TurnsPerChat == 0)
                    await client.NewChatAsync();
                reply = await client.SendAsync(text);
                var status = await reply.Ended.WaitAsync(ReplyDeadline);
                messages.Add((client.ConversationId, text));
                if (status is "complete" or "length" or "filtered") // answered: a real model may reach its length limit
                    completed.Add(reply);
                else
                    failure = $"reply ended {status}";
            }
            catch (TimeoutException) when (reply is null)
            {
                failure = "a new chat did not open within a minute";
            }
            catch (TimeoutException)
            {
                messages.Add((client.ConversationId, text));
                late++;
                failure = reply!.Batches == 0 ? "the page never took the message"
                    : $"no reply end after {ReplyDeadline.TotalSeconds} s ({reply.Batches} batches, {reply.TextBatches.Count} with text)";
            }
            catch (InvalidOperationException e)
            {
                if (reply is not null)
                    messages.Add((client.ConversationId, text));
                failure = e.Message; // the circuit failed or closed
            }
        }
        return new Chat(messages, completed, late, failure ?? client.Failure);
    }

    private const string Header = "chats | held | sent | late | lost | first text p50/p95 ms | engine first token p50/p95 ms | inter-text p50/p95 ms | batches/reply | web cores | bench cores | machine busy | load avg";

    private static string Row(Step s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.Chats,5} | {s.ChatsHeld,4} | {s.MessagesSent,4} | {s.MessagesLate,4} | {s.MessagesLost,4} | {s.FirstTextP50Ms,8:F0} / {s.FirstTextP95Ms,-8:F0} | {s.EngineFirstTokenP50Ms,14:F0} / {s.EngineFirstTokenP95Ms,-14:F0} | {s.InterTextP50Ms,8:F0} / {s.InterTextP95Ms,-8:F0} | {s.BatchesPerReply,13} | {s.WebServerCores,9} | {s.BenchProcessCores,11} | {s.MachineBusy,12:P0} | {s.LoadAverage,8}");

    // The machine's one-minute load average at the end of a step: on a shared machine, what else was running.
    private static double LoadAverage() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0)
            return 0;
        var sorted = values.Order().ToArray();
        return Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)], 1);
    }

    private static string Setting(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
