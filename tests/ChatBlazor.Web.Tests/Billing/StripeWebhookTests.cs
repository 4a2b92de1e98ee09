using Microsoft.AspNetCore.TestHost;
using System.Net;
using System.Net.Http.Json;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using ChatBlazor.Web.Billing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static ChatBlazor.Web.Tests.Billing.StripeEventJson;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// POST /stripe/webhook against the real app and database, with events signed here as Stripe signs them: what is
/// refused, what is applied once, and that the order of delivery does not decide the outcome.
/// </summary>
public class StripeWebhookTests(StripeWebhookTests.Factory app) : IClassFixture<StripeWebhookTests.Factory>
{
    public const string Secret = "whsec_test_webhook_secret";
    private const string ProPrice = "price_pro_test", TeamPrice = "price_team_test";

    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            Set("Stripe:SecretKey", "sk_test_not_used_by_the_webhook");
            Set("Stripe:WebhookSecret", Secret);
            // No grace: a failed payment ends the plan at once, so paying can be seen to restore it.
            Set("Stripe:PaymentGracePeriod", "00:00:00");
            Set("Plans:Pro:StripePriceId", ProPrice);
            Set("Plans:Team:StripePriceId", TeamPrice);
        }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            // /metrics answers loopback only; the in-memory server has no address of its own.
            builder.ConfigureTestServices(services => services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, ChatBlazor.Web.Tests.Telemetry.RemoteAddressDouble>());
        }
    }

    // Events of a test happen in its own second-resolution timeline, minutes apart, so "older" is never a tie.
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600);

    private async Task<HttpResponseMessage> PostAsync(string payload, string secret = Secret, DateTimeOffset? signedAt = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, StripeWebhook.Path) { Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", Signature(payload, secret, signedAt ?? DateTimeOffset.UtcNow));
        return await app.CreateClient().SendAsync(request);
    }

    private async Task<string> DeliverAsync(string payload)
    {
        using var response = await PostAsync(payload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<StripeWebhook.Receipt>())!.Outcome;
    }

    private async Task<(string Id, string Email)> NewUserAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = $"billing-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, Plan = "Free" };
        Assert.True((await users.CreateAsync(user, "Str0ng!pass")).Succeeded);
        return (user.Id, email);
    }

    private async Task<AppDbContext> DbAsync() => await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    private async Task<string?> PlanOfAsync(string userId)
    {
        await using var db = await DbAsync();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.Plan).SingleAsync();
    }

    private async Task<List<AuditEntry>> PlanChangesAsync(string email)
    {
        await using var db = await DbAsync();
        return await db.AuditEntries.Where(e => e.Target == email && e.Action == AuditActions.UserPlan).OrderBy(e => e.Id).ToListAsync();
    }

    private async Task<bool> RecordedAsync(string eventId)
    {
        await using var db = await DbAsync();
        return await db.BillingEvents.AnyAsync(e => e.Id == eventId);
    }

    /// <summary>A user linked to a new customer by a completed checkout, with no subscription event yet.</summary>
    private async Task<(string UserId, string Email, string Customer, string Subscription)> CheckedOutAsync()
    {
        var (userId, email) = await NewUserAsync();
        var (customer, subscription) = (NewId("cus"), NewId("sub"));
        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout(userId, customer, subscription), T0)));
        return (userId, email, customer, subscription);
    }

    /// <summary>The values of the scraped series <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    private async Task<List<double>> ScrapedAsync(string name, params string[] labels)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add(ChatBlazor.Web.Tests.Telemetry.RemoteAddressDouble.Header, "127.0.0.1");
        using var response = await app.CreateClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l.Contains))
            .Select(l => double.Parse(l[(l.LastIndexOf('}') + 2)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))];
    }

    [Fact]
    public async Task EventsAreCountedByTypeAndOutcomeWithTheirLag()
    {
        await CheckedOutAsync(); // a checkout.session.completed created an hour before it arrives
        using var forged = await PostAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout("u", "cus_x", "sub_x"), T0), secret: "whsec_someone_elses");

        // Counters of the whole test process: at least this test's events.
        Assert.InRange(Assert.Single(await ScrapedAsync("chatblazor_stripe_webhook_events_total", "type=\"checkout.session.completed\"", "outcome=\"applied\"")), 1, double.MaxValue);
        Assert.InRange(Assert.Single(await ScrapedAsync("chatblazor_stripe_webhook_events_total", "type=\"unverified\"", "outcome=\"refused\"")), 1, double.MaxValue);
        // An hour late: counted, and not under the 15-minute bucket's bound.
        var lagged = await ScrapedAsync("chatblazor_stripe_webhook_lag_seconds_bucket", "type=\"checkout.session.completed\"", "le=\"+Inf\"");
        var early = await ScrapedAsync("chatblazor_stripe_webhook_lag_seconds_bucket", "type=\"checkout.session.completed\"", "le=\"900\"");
        Assert.True(Assert.Single(lagged) > Assert.Single(early), "the hour-late event is not in the lag histogram");
    }

    [Fact]
    public async Task AForgedSignatureIsRefusedWith400AndChangesNothing()
    {
        var (userId, _, customer, subscription) = await CheckedOutAsync();
        var id = NewId("evt");
        var payload = Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1), id);

        using var response = await PostAsync(payload, secret: "whsec_someone_elses");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Not a verified Stripe event", await response.Content.ReadAsStringAsync());
        Assert.Equal("Free", await PlanOfAsync(userId));
        Assert.False(await RecordedAsync(id));
    }

    [Fact]
    public async Task AStaleTimestampIsRefusedWith400AndTheSameEventSignedNowIsAccepted()
    {
        var (userId, _, customer, subscription) = await CheckedOutAsync();
        var id = NewId("evt");
        var payload = Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1), id);

        using var stale = await PostAsync(payload, signedAt: DateTimeOffset.UtcNow.AddSeconds(-(StripeWebhook.ToleranceSeconds + 60)));

        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        Assert.Equal("Free", await PlanOfAsync(userId));
        Assert.False(await RecordedAsync(id));
        Assert.Equal("Applied", await DeliverAsync(payload));
        Assert.Equal("Pro", await PlanOfAsync(userId));
    }

    [Fact]
    public void TheWebhookIsServedWhenBillingIsOn() =>
        Assert.Contains(StripeWebhook.Path, app.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>().Select(e => e.RoutePattern.RawText));

    [Fact]
    public async Task ABodyOverTheCapIsRefusedWith413()
    {
        var payload = new string(' ', StripeWebhook.MaxBodyBytes + 1);

        using var response = await PostAsync(payload);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task AnInvoiceOfACustomerNotYetLinkedIsGivenItsUserByTheCheckout()
    {
        var (userId, _) = await NewUserAsync();
        var (customer, subscription, invoice) = (NewId("cus"), NewId("sub"), NewId("in"));
        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.InvoiceFinalized, Invoice(invoice, customer, subscription, "open", 1500, T0), T0)));
        await using (var db = await DbAsync())
            Assert.Null((await db.Invoices.SingleAsync(i => i.Id == invoice)).UserId);

        await DeliverAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout(userId, customer, subscription), T0.AddMinutes(1)));

        await using (var db = await DbAsync())
            Assert.Equal(userId, (await db.Invoices.SingleAsync(i => i.Id == invoice)).UserId);
    }

    [Fact]
    public async Task ASignedBodyThatIsNotAnEventIsRefusedWith400()
    {
        using var response = await PostAsync("{\"id\": \"evt_1\", \"created\": ");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not the JSON of a Stripe event", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AMissingSignatureIsRefusedWith400()
    {
        using var response = await app.CreateClient().PostAsync(StripeWebhook.Path, new StringContent("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Stripe-Signature", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ADuplicateDeliveryIsAnsweredOkAndTakesEffectOnce()
    {
        var (userId, email, customer, subscription) = await CheckedOutAsync();
        var payload = Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1));

        Assert.Equal("Applied", await DeliverAsync(payload));
        Assert.Equal("Duplicate", await DeliverAsync(payload));

        Assert.Equal("Pro", await PlanOfAsync(userId));
        var change = Assert.Single(await PlanChangesAsync(email));
        Assert.Equal((BillingEventApplier.Actor.Id, BillingEventApplier.Actor.Email), (change.ActorId, change.ActorEmail));
        Assert.StartsWith("Free → Pro", change.Details);
    }

    [Fact]
    public async Task ConcurrentDeliveriesOfOneEventApplyItOnce()
    {
        var (userId, email, customer, subscription) = await CheckedOutAsync();
        var applier = app.Services.GetRequiredService<BillingEventApplier>();
        var change = new SubscriptionChanged(NewId("evt"), StripeEventTypes.SubscriptionCreated, T0.AddMinutes(1),
            new SubscriptionState(subscription, customer, "active", [ProPrice], T0, T0.AddMonths(1), false));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => applier.ApplyAsync(change))));

        Assert.Equal(1, outcomes.Count(o => o == BillingOutcome.Applied));
        Assert.All(outcomes.Where(o => o != BillingOutcome.Applied), o => Assert.Equal(BillingOutcome.Duplicate, o));
        Assert.Equal("Pro", await PlanOfAsync(userId));
        Assert.Single(await PlanChangesAsync(email));
    }

    [Fact]
    public async Task AnUpdateThatArrivesBeforeTheCreationWinsOverIt()
    {
        var (userId, _, customer, subscription) = await CheckedOutAsync();

        // Created at T0+1 (incomplete, Pro), then updated at T0+2 (active, Team) — delivered the other way round.
        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.SubscriptionUpdated, Subscription(subscription, customer, "active", TeamPrice, T0), T0.AddMinutes(2))));
        Assert.Equal("Outdated", await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "incomplete", ProPrice, T0), T0.AddMinutes(1))));

        Assert.Equal("Team", await PlanOfAsync(userId));
        await using var db = await DbAsync();
        var account = await db.BillingAccounts.SingleAsync(a => a.CustomerId == customer);
        Assert.Equal(("active", TeamPrice, "Team", T0.AddMinutes(2)), (account.Status, account.PriceId, account.Plan, account.SubscriptionEventAt));
    }

    [Fact]
    public async Task AnOlderUpdateAfterANewerOneChangesNothing()
    {
        var (userId, email, customer, subscription) = await CheckedOutAsync();
        await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1)));
        await DeliverAsync(Event(StripeEventTypes.SubscriptionUpdated, Subscription(subscription, customer, "active", TeamPrice, T0), T0.AddMinutes(5)));

        var outcome = await DeliverAsync(Event(StripeEventTypes.SubscriptionUpdated, Subscription(subscription, customer, "active", ProPrice, T0, cancelAtPeriodEnd: true), T0.AddMinutes(3)));

        Assert.Equal("Outdated", outcome);
        Assert.Equal("Team", await PlanOfAsync(userId));
        Assert.Equal(2, (await PlanChangesAsync(email)).Count); // Free → Pro → Team, nothing after
        await using var db = await DbAsync();
        Assert.False((await db.BillingAccounts.SingleAsync(a => a.CustomerId == customer)).CancelAtPeriodEnd);
    }

    [Fact]
    public async Task AnEventTypeBillingDoesNotUseIsAnsweredOkAndNotRecorded()
    {
        var id = NewId("evt");
        var customer = new System.Text.Json.Nodes.JsonObject { ["id"] = NewId("cus"), ["object"] = "customer" };

        Assert.Equal("Ignored", await DeliverAsync(Event("customer.created", customer, T0, id)));

        Assert.False(await RecordedAsync(id));
    }

    [Fact]
    public async Task ASubscriptionWaitsForTheCheckoutThatLinksItsUser()
    {
        var (userId, email) = await NewUserAsync();
        var (customer, subscription) = (NewId("cus"), NewId("sub"));

        // Stripe may send the subscription before the checkout that names the user: it is kept for the customer.
        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1))));
        Assert.Equal("Free", await PlanOfAsync(userId));

        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout(userId, customer, subscription), T0.AddMinutes(1))));

        Assert.Equal("Pro", await PlanOfAsync(userId));
        await using var db = await DbAsync();
        Assert.Equal(userId, (await db.BillingAccounts.SingleAsync(a => a.CustomerId == customer)).UserId);
        Assert.Contains($"checkout linked customer {customer}", Assert.Single(await PlanChangesAsync(email)).Details);
    }

    [Fact]
    public async Task ACheckoutNamingNoUserOrNotASubscriptionLinksNothing()
    {
        var customer = NewId("cus");

        Assert.Equal("Ignored", await DeliverAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout("no-such-user", customer, NewId("sub")), T0)));
        var (userId, _) = await NewUserAsync();
        Assert.Equal("Ignored", await DeliverAsync(Event(StripeEventTypes.CheckoutSessionCompleted, Checkout(userId, customer, NewId("sub"), mode: "payment"), T0)));

        await using var db = await DbAsync();
        Assert.False(await db.BillingAccounts.AnyAsync(a => a.CustomerId == customer || a.UserId == userId));
    }

    [Fact]
    public async Task ADeletedSubscriptionReturnsTheUserToTheDefaultPlan()
    {
        var (userId, email, customer, subscription) = await CheckedOutAsync();
        await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1)));
        Assert.Equal("Pro", await PlanOfAsync(userId));

        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.SubscriptionDeleted, Subscription(subscription, customer, "canceled", ProPrice, T0), T0.AddMinutes(2))));

        Assert.Equal("Free", await PlanOfAsync(userId));
        Assert.StartsWith("Pro → Free", (await PlanChangesAsync(email))[^1].Details);
    }

    [Fact]
    public async Task TheEndOfAnOldSubscriptionDoesNotUndoTheCustomersNewOne()
    {
        var (userId, _, customer, oldSubscription) = await CheckedOutAsync();
        var newSubscription = NewId("sub");
        await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(oldSubscription, customer, "active", ProPrice, T0), T0.AddMinutes(1)));
        await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(newSubscription, customer, "active", TeamPrice, T0), T0.AddMinutes(2)));

        Assert.Equal("Outdated", await DeliverAsync(Event(StripeEventTypes.SubscriptionDeleted, Subscription(oldSubscription, customer, "canceled", ProPrice, T0), T0.AddMinutes(3))));

        Assert.Equal("Team", await PlanOfAsync(userId));
    }

    [Fact]
    public async Task AFailedPaymentEndsThePlanAfterTheGracePeriodAndPayingRestoresIt()
    {
        var (userId, email, customer, subscription) = await CheckedOutAsync();
        await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1)));
        var invoice = NewId("in");
        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.InvoiceFinalized, Invoice(invoice, customer, subscription, "open", 2000, T0.AddMinutes(2)), T0.AddMinutes(2))));

        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.InvoicePaymentFailed, Invoice(invoice, customer, subscription, "open", 2000, T0.AddMinutes(2)), T0.AddMinutes(3))));

        Assert.Equal("Free", await PlanOfAsync(userId)); // this class's grace period is 0
        await using (var db = await DbAsync())
            Assert.Equal(T0.AddMinutes(3), (await db.BillingAccounts.SingleAsync(a => a.CustomerId == customer)).PaymentFailedSince);

        Assert.Equal("Applied", await DeliverAsync(Event(StripeEventTypes.InvoicePaid, Invoice(invoice, customer, subscription, "paid", 2000, T0.AddMinutes(2)), T0.AddMinutes(4))));

        Assert.Equal("Pro", await PlanOfAsync(userId));
        await using (var db = await DbAsync())
        {
            Assert.Null((await db.BillingAccounts.SingleAsync(a => a.CustomerId == customer)).PaymentFailedSince);
            var stored = await db.Invoices.SingleAsync(i => i.Id == invoice);
            Assert.Equal((userId, subscription, "paid", 2000L, 2000L, "usd"), (stored.UserId, stored.SubscriptionId, stored.Status, stored.AmountDue, stored.AmountPaid, stored.Currency));
            Assert.Equal($"https://invoice.stripe.test/{invoice}.pdf", stored.PdfUrl);
        }
        Assert.Equal(["Free → Pro", "Pro → Free", "Free → Pro"], (await PlanChangesAsync(email)).Select(e => e.Details![..10]));
    }

    [Fact]
    public async Task AnOlderInvoiceEventDoesNotTakeBackAPayment()
    {
        var (userId, _, customer, subscription) = await CheckedOutAsync();
        await DeliverAsync(Event(StripeEventTypes.SubscriptionCreated, Subscription(subscription, customer, "active", ProPrice, T0), T0.AddMinutes(1)));
        var invoice = NewId("in");
        await DeliverAsync(Event(StripeEventTypes.InvoicePaid, Invoice(invoice, customer, subscription, "paid", 2000, T0.AddMinutes(2)), T0.AddMinutes(5)));

        // The failure of an earlier attempt, delivered late.
        Assert.Equal("Outdated", await DeliverAsync(Event(StripeEventTypes.InvoicePaymentFailed, Invoice(invoice, customer, subscription, "open", 2000, T0.AddMinutes(2)), T0.AddMinutes(3))));

        Assert.Equal("Pro", await PlanOfAsync(userId));
        await using var db = await DbAsync();
        Assert.Equal("paid", (await db.Invoices.SingleAsync(i => i.Id == invoice)).Status);
        Assert.Null((await db.BillingAccounts.SingleAsync(a => a.CustomerId == customer)).PaymentFailedSince);
    }
}
