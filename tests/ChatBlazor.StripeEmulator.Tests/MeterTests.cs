using System.Net;
using System.Text.Json.Nodes;
using Stripe;
using Stripe.Checkout;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>Billing meters, meter events (v1 and the v2 stream), and closing a period into an invoice.</summary>
public sealed class MeterTests
{
    [Fact]
    public async Task AKnownIdentifierIsRefusedAndTheInvoiceCountsItOnce()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (catalog, subscription) = await SubscribeAsync(emulator, "user-20", "4242424242424242");
        var events = new Stripe.Billing.MeterEventService(emulator.Client);

        await events.CreateAsync(Usage(subscription.CustomerId, "u20-w1", 100));
        await events.CreateAsync(Usage(subscription.CustomerId, "u20-w2", 250));
        var duplicate = await Assert.ThrowsAsync<StripeException>(() => events.CreateAsync(Usage(subscription.CustomerId, "u20-w1", 100)));
        var invoice = await ClosePeriodAsync(emulator, subscription.Id);

        Assert.Equal(HttpStatusCode.BadRequest, duplicate.HttpStatusCode);
        Assert.Equal("resource_already_exists", duplicate.StripeError.Code);
        Assert.Equal("paid", invoice.Status);
        var tokens = invoice.Lines.Data.Single(l => l.Pricing.PriceDetails.PriceId == catalog.Tokens.Id);
        Assert.Equal(350, tokens.Quantity);
        Assert.Equal(700, tokens.Amount);
        var plan = invoice.Lines.Data.Single(l => l.Pricing.PriceDetails.PriceId == catalog.Plan.Id);
        Assert.Equal(2000, plan.Amount);
        Assert.Equal(2700, invoice.AmountPaid);
        Assert.StartsWith(emulator.Url + "/invoices/", invoice.HostedInvoiceUrl);
    }

    [Fact]
    public async Task ClosingAgainBillsOnlyUsageReportedSinceAndRollsThePeriod()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (catalog, subscription) = await SubscribeAsync(emulator, "user-21", "4242424242424242");
        var events = new Stripe.Billing.MeterEventService(emulator.Client);

        await events.CreateAsync(Usage(subscription.CustomerId, "u21-a", 10));
        var first = await ClosePeriodAsync(emulator, subscription.Id);
        await events.CreateAsync(Usage(subscription.CustomerId, "u21-b", 5));
        var second = await ClosePeriodAsync(emulator, subscription.Id);
        var rolled = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);

        Assert.Equal(10, first.Lines.Data.Single(l => l.Pricing.PriceDetails.PriceId == catalog.Tokens.Id).Quantity);
        Assert.Equal(5, second.Lines.Data.Single(l => l.Pricing.PriceDetails.PriceId == catalog.Tokens.Id).Quantity);
        var original = subscription.Items.Data[0];
        Assert.Equal(original.CurrentPeriodEnd.AddMonths(1), rolled.Items.Data[0].CurrentPeriodStart);
    }

    [Fact]
    public async Task V2MeterEventStreamAnswers200AndItsEventsAreBilled()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (catalog, subscription) = await SubscribeAsync(emulator, "user-22", "4242424242424242");

        var meterSession = await emulator.Client.V2.Billing.MeterEventSession.CreateAsync(new());
        var streamClient = emulator.ClientWithKey(meterSession.AuthenticationToken);
        await streamClient.V2.Billing.MeterEventStream.CreateAsync(new Stripe.V2.Billing.MeterEventStreamCreateOptions
        {
            Events =
            [
                new() { EventName = TestCatalog.MeterEventName, Identifier = "u22-s1", Payload = Payload(subscription.CustomerId, 40) },
                new() { EventName = TestCatalog.MeterEventName, Identifier = "u22-s2", Payload = Payload(subscription.CustomerId, 2) },
                // A repeat on the stream is dropped, not counted.
                new() { EventName = TestCatalog.MeterEventName, Identifier = "u22-s1", Payload = Payload(subscription.CustomerId, 40) },
            ],
        });
        var invoice = await ClosePeriodAsync(emulator, subscription.Id);

        Assert.Equal(42, invoice.Lines.Data.Single(l => l.Pricing.PriceDetails.PriceId == catalog.Tokens.Id).Quantity);
    }

    [Fact]
    public async Task AMeterWithItsOwnPayloadKeysIsBilledByThem()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var meter = await new Stripe.Billing.MeterService(emulator.Client).CreateAsync(new Stripe.Billing.MeterCreateOptions
        {
            DisplayName = "Output tokens",
            EventName = "output_tokens",
            DefaultAggregation = new Stripe.Billing.MeterDefaultAggregationOptions { Formula = "sum" },
            CustomerMapping = new Stripe.Billing.MeterCustomerMappingOptions { EventPayloadKey = "customer", Type = "by_id" },
            ValueSettings = new Stripe.Billing.MeterValueSettingsOptions { EventPayloadKey = "tokens" },
        });
        var price = await new PriceService(emulator.Client).CreateAsync(new PriceCreateOptions
        {
            ProductData = new PriceProductDataOptions { Name = "Output tokens" },
            Currency = "usd",
            UnitAmount = 3,
            Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "metered", Meter = meter.Id },
        });
        var session = await new SessionService(emulator.Client).CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            CustomerEmail = "keys@example.com",
            SuccessUrl = "http://app.test/ok",
            LineItems = [new SessionLineItemOptions { Price = price.Id }],
        });
        using var http = emulator.Http();
        (await TestCatalog.PayAsync(http, session, "4242424242424242")).Dispose();
        var paid = await new SessionService(emulator.Client).GetAsync(session.Id);

        await new Stripe.Billing.MeterEventService(emulator.Client).CreateAsync(new Stripe.Billing.MeterEventCreateOptions
        {
            EventName = "output_tokens",
            Payload = new Dictionary<string, string> { ["customer"] = paid.CustomerId, ["tokens"] = "7" },
        });
        var invoice = await ClosePeriodAsync(emulator, paid.SubscriptionId);

        var line = Assert.Single(invoice.Lines.Data);
        Assert.Equal(7, line.Quantity);
        Assert.Equal(21, line.Amount);
    }

    [Fact]
    public async Task TheStreamRefusesTheSecretKey()
    {
        await using var emulator = await EmulatorServer.StartAsync();

        var error = await Assert.ThrowsAnyAsync<StripeException>(() =>
            emulator.Client.V2.Billing.MeterEventStream.CreateAsync(new Stripe.V2.Billing.MeterEventStreamCreateOptions
            {
                Events = [new() { EventName = TestCatalog.MeterEventName, Payload = Payload("cus_x", 1) }],
            }));

        Assert.Equal(HttpStatusCode.Unauthorized, error.HttpStatusCode);
    }

    [Fact]
    public async Task AFailedRenewalLeavesTheInvoiceOpenAndTheSubscriptionPastDue()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (_, subscription) = await SubscribeAsync(emulator, "user-23", "4242424242424242");

        var invoice = await ClosePeriodAsync(emulator, subscription.Id, fail: true);
        var after = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);

        Assert.Equal("open", invoice.Status);
        Assert.Equal(2000, invoice.AmountRemaining);
        Assert.Equal("past_due", after.Status);
    }

    private static Stripe.Billing.MeterEventCreateOptions Usage(string customerId, string identifier, long value) => new()
    {
        EventName = TestCatalog.MeterEventName,
        Identifier = identifier,
        Payload = Payload(customerId, value),
    };

    private static Dictionary<string, string> Payload(string customerId, long value) =>
        new() { ["stripe_customer_id"] = customerId, ["value"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    internal static async Task<(TestCatalog Catalog, Subscription Subscription)> SubscribeAsync(EmulatorServer emulator, string userId, string card)
    {
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, userId, $"{userId}@example.com");
        using var http = emulator.Http();
        (await TestCatalog.PayAsync(http, session, card)).Dispose();
        var paid = await new SessionService(emulator.Client).GetAsync(session.Id, new SessionGetOptions { Expand = ["subscription"] });
        return (catalog, paid.Subscription);
    }

    /// <summary>The emulator's "close the period" control; returns the invoice it made, read back through Stripe.net.</summary>
    internal static async Task<Invoice> ClosePeriodAsync(EmulatorServer emulator, string subscriptionId, bool fail = false)
    {
        using var http = emulator.Http();
        var response = await http.PostAsync($"/_emulator/subscriptions/{subscriptionId}/close_period",
            new FormUrlEncodedContent([new("fail", fail ? "true" : "false")]));
        response.EnsureSuccessStatusCode();
        var invoiceId = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["invoice"]!["id"]!;
        return await new InvoiceService(emulator.Client).GetAsync(invoiceId);
    }
}
