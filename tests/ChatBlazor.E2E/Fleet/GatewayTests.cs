using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E.Fleet;

/// <summary>
/// The fleet of scripts/cluster.sh, reached as users reach it: over HTTPS through NGINX. Its web instances are
/// killed and restarted under an open chat.
/// </summary>
public class GatewayTests(ClusterFleet fleet) : IClassFixture<ClusterFleet>
{
    private const string Password = "Str0ng!pass";

    private async Task<(IPage Page, string Email)> RegisterAsync()
    {
        // Requests that an earlier test's restarts made (a taken-over reply asks again) are not this test's.
        while (fleet.Model.Asked.TryRead(out _)) { }
        var page = await fleet.NewPageAsync();
        return (page, await FleetTests.RegisterAsync(page));
    }

    private static Guid ConversationOf(IPage page) => Guid.Parse(new Uri(page.Url).Segments[^1]);

    private async Task<Message> StoredReplyAsync(Guid conversation)
    {
        var options = new DbContextOptionsBuilder<AppDbContext>().UseNpgsql(fleet.Database).Options;
        await using var db = new AppDbContext(options);
        return await db.Messages.AsNoTracking().Where(m => m.ConversationId == conversation && m.Role == MessageRole.Assistant)
            .OrderBy(m => m.CreatedAt).FirstAsync();
    }

    /// <summary>The web instance NGINX pins this browser's circuit to: where its last SignalR negotiate went.</summary>
    private async Task<string> CircuitInstanceAsync(IPage page)
    {
        var affinity = (await page.Context.CookiesAsync()).Single(c => c.Name == "cb_affinity").Value;
        var negotiate = fleet.Requests().Last(r => r.Affinity == affinity && r.Path.StartsWith("/_blazor/negotiate", StringComparison.Ordinal));
        return fleet.WebNameOf(negotiate.UpstreamPort);
    }

    [Fact]
    public async Task AUserChatsWithTheInferenceHostsModelOverHttpsAndTheChatIsThereAfterAReload()
    {
        var (page, email) = await RegisterAsync();
        await fleet.ScriptAsync("admin", "set-plan", "--email", email, "--plan", "Pro"); // Pro may use the real model
        await page.ReloadAsync();
        await Expect(page.GetByTestId("model-picker").Locator("input")).ToHaveValueAsync("chatblazor-mini");

        await ChatFlowTests.SendAsync(page, "What is a cat?");

        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete");
        var text = await reply.Locator(".markdown").InnerTextAsync();
        Assert.False(string.IsNullOrWhiteSpace(text));
        await page.ReloadAsync();
        await Expect(page.GetByTestId("message-user")).ToHaveTextAsync("What is a cat?");
        await Expect(page.GetByTestId("message-assistant").Locator(".markdown")).ToHaveTextAsync(text);
        // NGINX's X-Forwarded-Proto is believed (the fleet names it a known proxy): the sign-in cookie is Secure.
        var session = (await page.Context.CookiesAsync()).Single(c => c.Name == ".AspNetCore.Identity.Application");
        Assert.True(session.Secure);
    }

    [Fact]
    public async Task KillingTheInstanceThatServesTheCircuitMidReplyMovesThePageToTheOtherAndTheReplyCompletes()
    {
        var (page, _) = await RegisterAsync();
        await ChatFlowTests.SendAsync(page, "tell me a story");
        await fleet.Model.Asked.ReadAsync();
        fleet.Model.Release("Once ", "upon ");
        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToContainTextAsync("Once upon");
        var conversation = ConversationOf(page);
        while ((await StoredReplyAsync(conversation)).Content != "Once upon ")
            await Task.Delay(20); // every piece is saved in this fleet; polling a condition

        var served = await CircuitInstanceAsync(page);
        var running = await fleet.ReplyWorkerAsync();
        try
        {
            System.Diagnostics.Process.GetProcessById(fleet.PidOf(served)).Kill(); // a crash: no shutdown, no hand-over
            if (running == served)
            {
                // The reply died with it: the other instance takes the job over and goes on from the saved text.
                // (Released only now: tokens sent to the dead instance's request would be lost with it.)
                var resumed = await fleet.Model.Asked.ReadAsync();
                Assert.Equal("Once upon ", resumed.ContinueFrom);
            }
            fleet.Model.Release("a time.", "<end>");

            // The page reconnects through NGINX to the other instance, which has no such circuit: the page loads
            // again there, shows the reply as saved and follows it to its end.
            await Expect(reply).ToHaveAttributeAsync("data-status", "complete");
            await Expect(reply.Locator(".markdown")).ToHaveTextAsync("Once upon a time.");
            Assert.Equal(conversation, ConversationOf(page));
            Assert.NotEqual(served, await CircuitInstanceAsync(page));
            var stored = await StoredReplyAsync(conversation);
            Assert.Equal(("Once upon a time.", CompletionStatus.Complete), (stored.Content, stored.Status));

            // The new circuit is a live one: the next message is answered.
            await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();
            await ChatFlowTests.SendAsync(page, "and then?");
            await fleet.Model.Asked.ReadAsync();
            fleet.Model.Release("The end.", "<end>");
            await Expect(page.GetByTestId("message-assistant").Nth(1).Locator(".markdown")).ToHaveTextAsync("The end.");
        }
        finally
        {
            await fleet.ScriptAsync("up"); // starts the killed instance again, and only it
        }
    }

    [Fact]
    public async Task ARollingRestartDuringAReplyLosesNothing()
    {
        var (page, _) = await RegisterAsync();
        await ChatFlowTests.SendAsync(page, "count slowly");
        await fleet.Model.Asked.ReadAsync();
        fleet.Model.Release("one ", "two ");
        var reply = page.GetByTestId("message-assistant");
        await Expect(reply).ToContainTextAsync("one two");
        var conversation = ConversationOf(page);
        while ((await StoredReplyAsync(conversation)).Content != "one two ")
            await Task.Delay(20); // polling a condition

        var before = (fleet.PidOf("web-1"), fleet.PidOf("web-2"));

        await fleet.ScriptAsync("restart"); // both instances, one after the other, while the reply waits

        Assert.True(fleet.PidOf("web-1") != before.Item1 && fleet.PidOf("web-2") != before.Item2);
        fleet.Model.Release("three.", "<end>");
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete");
        await Expect(reply.Locator(".markdown")).ToHaveTextAsync("one two three.");
        await Expect(page.GetByTestId("message-user")).ToHaveTextAsync("count slowly");
        var stored = await StoredReplyAsync(conversation);
        Assert.Equal(("one two three.", CompletionStatus.Complete), (stored.Content, stored.Status));
    }

    [Fact]
    public async Task ApiRequestsThroughTheGatewaySpreadOverBothInstances()
    {
        var email = $"api-{Guid.NewGuid():N}@example.com";
        await fleet.ScriptAsync("admin", "create-user", "--email", email, "--password", Password);
        await fleet.ScriptAsync("admin", "set-plan", "--email", email, "--plan", "Pro");
        var key = (await fleet.ScriptAsync("admin", "create-api-key", "--email", email, "--name", "spread")).Trim().Split('\n')[^1];
        using var http = TrustingFleet();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var before = fleet.AccessLogLength();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
            {
                model = "chatblazor-mini", max_tokens = 4, messages = new[] { new { role = "user", content = $"Word {i}?" } },
            });
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        // NGINX writes a request's line just after its last byte went out: the last ones may still be on their way.
        var completions = fleet.Requests(before).Where(r => r.Path == "/v1/chat/completions").ToList();
        while (completions.Count < 40)
        {
            await Task.Delay(20); // polling a condition
            completions = [.. fleet.Requests(before).Where(r => r.Path == "/v1/chat/completions")];
        }
        var perInstance = completions.GroupBy(r => fleet.WebNameOf(r.UpstreamPort)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(40, perInstance.Values.Sum());
        // Each request is hashed on its own id: 40 land on both instances, each with at least 5 (all but certain).
        Assert.True(perInstance.GetValueOrDefault("web-1") >= 5 && perInstance.GetValueOrDefault("web-2") >= 5,
            $"web-1: {perInstance.GetValueOrDefault("web-1")}, web-2: {perInstance.GetValueOrDefault("web-2")}");
        // The inference host answers only the web instances, which hold its key.
        using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fleet.Port + 3}") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await direct.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
    }

    /// <summary>An HTTP/2 client that trusts the fleet's own certificate, and only it.</summary>
    private HttpClient TrustingFleet()
    {
        var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(fleet.CertificateFile));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(certificate.RawData);
        return new HttpClient(handler)
        {
            BaseAddress = new Uri(fleet.BaseUrl), DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }
}
