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
    public async Task EventSummariesSumACustomersEventsByTheirTimestampInTheRange()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (catalog, subscription) = await SubscribeAsync(emulator, "user-24", "4242424242424242");
        var other = await new CustomerService(emulator.Client).CreateAsync(new CustomerCreateOptions { Email = "user-25@example.com" });
        var events = new Stripe.Billing.MeterEventService(emulator.Client);
        var start = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

        await events.CreateAsync(Usage(subscription.CustomerId, "u24-in-1", 30, start));
        await events.CreateAsync(Usage(subscription.CustomerId, "u24-in-2", 12, start.AddHours(1).AddSeconds(-1)));
        await events.CreateAsync(Usage(subscription.CustomerId, "u24-at-end", 1000, start.AddHours(1)));
        await events.CreateAsync(Usage(subscription.CustomerId, "u24-before", 500, start.AddSeconds(-1)));
        await events.CreateAsync(Usage(other.Id, "u25-in", 7, start.AddMinutes(5)));
        // Billing an invoice does not take events out of the summary: it counts what the meter received.
        await ClosePeriodAsync(emulator, subscription.Id);
        var summaries = await new Stripe.Billing.MeterEventSummaryService(emulator.Client).ListAsync(catalog.Meter.Id,
            new Stripe.Billing.MeterEventSummaryListOptions { Customer = subscription.CustomerId, StartTime = start, EndTime = start.AddHours(1) });

        var summary = Assert.Single(summaries.Data);
        Assert.Equal(42m, summary.AggregatedValue);
        Assert.Equal((start, start.AddHours(1), catalog.Meter.Id), (summary.StartTime, summary.EndTime, summary.Meter));
    }

    [Fact]
    public async Task EventSummariesRefuseARangeOffMinuteBoundaries()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (catalog, subscription) = await SubscribeAsync(emulator, "user-26", "4242424242424242");
        var start = new DateTime(2026, 11, 1, 0, 0, 30, DateTimeKind.Utc);

        var error = await Assert.ThrowsAsync<StripeException>(() => new Stripe.Billing.MeterEventSummaryService(emulator.Client).ListAsync(catalog.Meter.Id,
            new Stripe.Billing.MeterEventSummaryListOptions { Customer = subscription.CustomerId, StartTime = start, EndTime = start.AddMinutes(30) }));

        Assert.Equal((HttpStatusCode.BadRequest, "start_time"), (error.HttpStatusCode, error.StripeError.Param));
    }

    [Fact]
    public async Task APerTokenDecimalPriceRoundsTheLineToTheNearestCent()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var meter = await new Stripe.Billing.MeterService(emulator.Client).CreateAsync(new Stripe.Billing.MeterCreateOptions
        {
            DisplayName = "Tokens",
            EventName = TestCatalog.MeterEventName,
            DefaultAggregation = new Stripe.Billing.MeterDefaultAggregationOptions { Formula = "sum" },
        });
        var price = await new PriceService(emulator.Client).CreateAsync(new PriceCreateOptions
        {
            ProductData = new PriceProductDataOptions { Name = "Tokens" },
            Currency = "usd",
            UnitAmountDecimal = 0.0002m,
            Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "metered", Meter = meter.Id },
        });
        var session = await new SessionService(emulator.Client).CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            CustomerEmail = "decimal@example.com",
            SuccessUrl = "http://app.test/ok",
            LineItems = [new SessionLineItemOptions { Price = price.Id }],
        });
        using var http = emulator.Http();
        var payPage = await http.GetStringAsync(new Uri(session.Url).PathAndQuery);
        (await TestCatalog.PayAsync(http, session, "4242424242424242")).Dispose();
        var paid = await new SessionService(emulator.Client).GetAsync(session.Id);
        var events = new Stripe.Billing.MeterEventService(emulator.Client);

        // 12 345 tokens × 0.0002 ¢ = 2.469 ¢ → 2 ¢; then 7 500 × 0.0002 = 1.5 ¢ → 2 ¢ (a half rounds up).
        await events.CreateAsync(Usage(paid.CustomerId, "dec-1", 12_345));
        var first = await ClosePeriodAsync(emulator, paid.SubscriptionId);
        await events.CreateAsync(Usage(paid.CustomerId, "dec-2", 7_500));
        var second = await ClosePeriodAsync(emulator, paid.SubscriptionId);
        var read = await new PriceService(emulator.Client).GetAsync(price.Id);

        Assert.Equal((12_345L, 2L), (Assert.Single(first.Lines.Data).Quantity, first.Lines.Data[0].Amount));
        Assert.Equal((7_500L, 2L), (Assert.Single(second.Lines.Data).Quantity, second.Lines.Data[0].Amount));
        Assert.Equal(0.0002m, first.Lines.Data[0].Pricing.UnitAmountDecimal);
        Assert.Equal(0.0002m, read.UnitAmountDecimal);
        Assert.Null(read.UnitAmount);
        Assert.Contains("0.000002 USD per unit", payPage);
    }

    [Fact]
    public async Task AWholeUnitAmountIsAlsoWrittenAsItsDecimalStringAndBothAtOnceAreRefused()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var http = emulator.Http();
        http.DefaultRequestHeaders.Authorization = new("Bearer", EmulatorServer.SecretKey);

        using var created = await http.PostAsync("/v1/prices", new FormUrlEncodedContent(
            [new("currency", "usd"), new("unit_amount", "2000"), new("product_data[name]", "Pro")]));
        using var both = await http.PostAsync("/v1/prices", new FormUrlEncodedContent(
            [new("currency", "usd"), new("unit_amount", "2000"), new("unit_amount_decimal", "2000"), new("product_data[name]", "Pro")]));
        using var bad = await http.PostAsync("/v1/prices", new FormUrlEncodedContent(
            [new("currency", "usd"), new("unit_amount_decimal", "0,5"), new("product_data[name]", "Pro")]));

        var price = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal((2000L, "2000"), ((long)price["unit_amount"]!, (string)price["unit_amount_decimal"]!));
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("unit_amount_decimal", (string)JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["error"]!["param"]!);
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

    private static Stripe.Billing.MeterEventCreateOptions Usage(string customerId, string identifier, long value, DateTime? timestamp = null) => new()
    {
        EventName = TestCatalog.MeterEventName,
        Identifier = identifier,
        Payload = Payload(customerId, value),
        Timestamp = timestamp,
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
