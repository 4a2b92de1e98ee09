using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Replies;
using ChatBlazor.Testing;
using ChatBlazor.Web.Billing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static ChatBlazor.Web.Tests.Billing.StripeEventJson;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// Billing never blocks chat: billing is on, but Stripe's address is a loopback port where nothing listens, so every
/// call to Stripe fails at once. The app still starts (nothing calls Stripe at start), chat replies and API
/// completions go on, and webhooks still apply (verifying and applying an event calls nobody).
/// </summary>
public class BillingOutageTests(BillingOutageTests.Factory app) : IClassFixture<BillingOutageTests.Factory>
{
    private const string Secret = "whsec_outage_test_secret";
    private const string ProPrice = "price_pro_outage";

    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            Set("Stripe:SecretKey", "sk_test_stripe_is_down");
            Set("Stripe:WebhookSecret", Secret);
            Set("Stripe:ApiBase", $"http://127.0.0.1:{ClosedPort()}");
            Set("Plans:Pro:StripePriceId", ProPrice);
        }

        /// <summary>A port that was free a moment ago and that nothing here listens on: connections are refused.</summary>
        private static int ClosedPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }

    private async Task<AppDbContext> DbAsync() => await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    [Fact]
    public async Task StripeIsReallyUnreachableForThisApp()
    {
        // The premise of the other tests: a call to Stripe from this app fails (Stripe.net lets the refused connection through).
        var stripe = app.Services.GetRequiredService<Stripe.StripeClient>();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => new Stripe.PriceService(stripe).GetAsync(ProPrice));
        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
    }

    [Fact]
    public async Task TheHealthReportShowsStripeDownWhileTheAppStaysReady()
    {
        var report = await app.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, report.Entries["stripe"].Status);

        using var ready = await app.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task AnApiCompletionSucceeds()
    {
        var (_, key) = await app.UserWithKeyAsync();
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hello!" } }, max_tokens = 8 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task AChatReplyCompletes()
    {
        var (user, _) = await app.UserWithKeyAsync();
        var store = app.Services.GetRequiredService<ConversationStore>();
        var chat = await store.CreateAsync(user, "chatblazor-mini");
        var question = await store.AddUserMessageAsync(user, chat.Id, null, "What is 2 + 2?");

        var reply = (await app.Services.GetRequiredService<ReplyJobs>().StartAsync(user, chat.Id, question!.Id))!.Value;

        // A reply runs as a job: poll its stored state until it ends (bounded, so a stuck reply fails the test).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        CompletionStatus status;
        while (true)
        {
            await using (var db = await DbAsync())
                status = await db.Messages.Where(m => m.Id == reply).Select(m => m.Status).SingleAsync(timeout.Token);
            if (status is not (CompletionStatus.Queued or CompletionStatus.Streaming))
                break;
            await Task.Delay(100, timeout.Token); // polling a condition
        }
        await using var check = await DbAsync();
        var message = await check.Messages.AsNoTracking().SingleAsync(m => m.Id == reply);
        Assert.Contains(message.Status, new[] { CompletionStatus.Complete, CompletionStatus.Length });
        Assert.NotEmpty(message.Content);
    }

    [Fact]
    public async Task AWebhookIsStillVerifiedAndApplied()
    {
        var (userId, _) = await app.UserWithKeyAsync();
        var (customer, subscription) = (NewId("cus"), NewId("sub"));
        var at = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60);

        var checkout = await DeliverAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout(userId, customer, subscription), at));
        var created = await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, at), at.AddSeconds(1)));

        Assert.Equal(("Applied", "Applied"), (checkout, created));
        await using var db = await DbAsync();
        Assert.Equal("Pro", await db.Users.Where(u => u.Id == userId).Select(u => u.Plan).SingleAsync());
    }

    private async Task<string> DeliverAsync(string payload)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, StripeWebhook.Path)
        {
            Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Stripe-Signature", Signature(payload, Secret, DateTimeOffset.UtcNow));
        using var response = await app.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<StripeWebhook.Receipt>())!.Outcome;
    }
}
