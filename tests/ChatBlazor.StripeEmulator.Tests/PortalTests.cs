using System.Net;
using Stripe;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>The customer portal's page (plan, cancel, card), subscription updates, and the hosted invoice page.</summary>
public sealed class PortalTests
{
    [Fact]
    public async Task CancelInThePortalEndsTheSubscriptionWhenThePeriodCloses()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var emulator = await EmulatorServer.StartAsync(receiver);
        var (_, subscription) = await MeterTests.SubscribeAsync(emulator, "user-30", "4242424242424242");
        await receiver.TakeAsync(5);
        var portal = await PortalAsync(emulator, subscription.CustomerId);
        using var http = emulator.Http();

        var page = await http.GetStringAsync(new Uri(portal.Url).PathAndQuery);
        var cancelled = await PostAsync(http, portal, "cancel", ("subscription", subscription.Id), ("cancel", "true"));
        var pending = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);
        await PostAsync(http, portal, "close", ("subscription", subscription.Id));
        var ended = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);
        var events = await receiver.TakeAsync(2);

        Assert.Contains("Cancel at period end", page);
        Assert.Contains("ends at the end of the period", cancelled);
        Assert.True(pending.CancelAtPeriodEnd);
        Assert.Equal("active", pending.Status);
        Assert.Equal("canceled", ended.Status);
        Assert.Equal(["customer.subscription.updated", "customer.subscription.deleted"], events.Select(e => e.Type));
        Assert.True(Assert.IsType<Subscription>(events[0].Data.Object).CancelAtPeriodEnd);
    }

    [Fact]
    public async Task ChangingPlanInThePortalSwapsTheItemsPrice()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (catalog, subscription) = await MeterTests.SubscribeAsync(emulator, "user-31", "4242424242424242");
        var team = await new PriceService(emulator.Client).CreateAsync(new PriceCreateOptions
        {
            ProductData = new PriceProductDataOptions { Name = "Team" },
            Currency = "usd",
            UnitAmount = 5000,
            Recurring = new PriceRecurringOptions { Interval = "month" },
        });
        var portal = await PortalAsync(emulator, subscription.CustomerId);
        using var http = emulator.Http();

        await PostAsync(http, portal, "plan", ("subscription", subscription.Id), ("price", team.Id));
        var changed = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);

        Assert.Equal([team.Id, catalog.Tokens.Id], changed.Items.Data.Select(i => i.Price.Id));
    }

    [Fact]
    public async Task AFailingCardMakesTheRenewalFailAndPayingTheHostedInvoiceRestoresTheSubscription()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (_, subscription) = await MeterTests.SubscribeAsync(emulator, "user-32", "4242424242424242");
        var portal = await PortalAsync(emulator, subscription.CustomerId);
        using var http = emulator.Http();

        var declined = await PostAsync(http, portal, "card", ("card", "4000000000000002"));
        var saved = await PostAsync(http, portal, "card", ("card", "4000000000000341"));
        var invoice = await MeterTests.ClosePeriodAsync(emulator, subscription.Id);
        var pastDue = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);
        var paidPage = await http.PostAsync(new Uri(invoice.HostedInvoiceUrl).PathAndQuery,
            new FormUrlEncodedContent([new("card", "4242424242424242")]));
        var restored = await new SubscriptionService(emulator.Client).GetAsync(subscription.Id);
        var paid = await new InvoiceService(emulator.Client).GetAsync(invoice.Id);
        var invoices = await new InvoiceService(emulator.Client).ListAsync(new InvoiceListOptions { Customer = subscription.CustomerId });

        Assert.Contains("Your card was declined.", declined);
        Assert.Contains("Card updated.", saved);
        Assert.Equal("open", invoice.Status);
        Assert.Equal("past_due", pastDue.Status);
        Assert.Equal(HttpStatusCode.OK, paidPage.StatusCode);
        Assert.Equal("paid", paid.Status);
        Assert.Equal("active", restored.Status);
        Assert.Equal([invoice.Id, subscription.LatestInvoiceId], invoices.Data.Select(i => i.Id));
        Assert.Equal(["paid", "paid"], invoices.Data.Select(i => i.Status));
    }

    [Fact]
    public async Task InvoicePdfIsAPdf()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (_, subscription) = await MeterTests.SubscribeAsync(emulator, "user-33", "4242424242424242");
        var invoice = await new InvoiceService(emulator.Client).GetAsync(subscription.LatestInvoiceId);
        using var http = emulator.Http();

        var response = await http.GetAsync(new Uri(invoice.InvoicePdf).PathAndQuery);
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("application/pdf", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("%PDF-1.4", System.Text.Encoding.ASCII.GetString(bytes, 0, 8));
        Assert.Contains(invoice.Number, System.Text.Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public async Task SubscriptionUpdateAndCancelThroughTheApi()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var (_, subscription) = await MeterTests.SubscribeAsync(emulator, "user-34", "4242424242424242");
        var subscriptions = new SubscriptionService(emulator.Client);

        var updated = await subscriptions.UpdateAsync(subscription.Id, new SubscriptionUpdateOptions { CancelAtPeriodEnd = true });
        var canceled = await subscriptions.CancelAsync(subscription.Id);
        var listed = await subscriptions.ListAsync(new SubscriptionListOptions { Customer = subscription.CustomerId, Status = "all" });

        Assert.True(updated.CancelAtPeriodEnd);
        Assert.Equal(updated.Items.Data[0].CurrentPeriodEnd, updated.CancelAt);
        Assert.Equal("canceled", canceled.Status);
        Assert.Equal([subscription.Id], listed.Data.Select(s => s.Id));
    }

    private static Task<Stripe.BillingPortal.Session> PortalAsync(EmulatorServer emulator, string customerId) =>
        new Stripe.BillingPortal.SessionService(emulator.Client).CreateAsync(new Stripe.BillingPortal.SessionCreateOptions
        {
            Customer = customerId,
            ReturnUrl = "http://app.test/billing",
        });

    private static async Task<string> PostAsync(HttpClient http, Stripe.BillingPortal.Session portal, string action, params (string Key, string Value)[] fields)
    {
        var response = await http.PostAsync($"{new Uri(portal.Url).AbsolutePath}/{action}",
            new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
