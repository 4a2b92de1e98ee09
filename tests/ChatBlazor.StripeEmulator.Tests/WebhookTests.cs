using System.Net.Http.Json;
using Stripe;
using Stripe.Checkout;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>Deliveries that Stripe.net's ConstructEvent accepts; retries; the duplicate and reorder switches.</summary>
public sealed class WebhookTests
{
    private static readonly string[] CheckoutEvents =
        ["customer.created", "checkout.session.completed", "customer.subscription.created", "invoice.finalized", "invoice.paid"];

    [Fact]
    public async Task PayingACheckoutDeliversSignedEventsThatConstructEventAccepts()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var emulator = await EmulatorServer.StartAsync(receiver);
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, "user-7", "seven@example.com");
        using var http = emulator.Http();

        await TestCatalog.PayAsync(http, session, "4242424242424242");
        var events = await receiver.TakeAsync(CheckoutEvents.Length);

        Assert.Equal(CheckoutEvents, events.Select(e => e.Type));
        Assert.All(events, e => Assert.EndsWith(".endive", e.ApiVersion));
        Assert.All(events, e => Assert.StartsWith("evt_", e.Id));
        var completed = Assert.IsType<Session>(events[1].Data.Object);
        Assert.Equal("user-7", completed.ClientReferenceId);
        var subscription = Assert.IsType<Subscription>(events[2].Data.Object);
        Assert.Equal("active", subscription.Status);
        Assert.Equal(completed.SubscriptionId, subscription.Id);
        Assert.Equal(0, receiver.Rejected);
    }

    [Fact]
    public async Task DeclinedCheckoutDeliversPaymentFailed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var emulator = await EmulatorServer.StartAsync(receiver);
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, "user-8", "eight@example.com");
        using var http = emulator.Http();

        await TestCatalog.PayAsync(http, session, "4000000000000002");
        var events = await receiver.TakeAsync(4);

        Assert.Equal(["customer.created", "customer.subscription.created", "invoice.finalized", "invoice.payment_failed"],
            events.Select(e => e.Type));
        Assert.Equal("incomplete", Assert.IsType<Subscription>(events[1].Data.Object).Status);
        Assert.Equal(1, Assert.IsType<Invoice>(events[3].Data.Object).AttemptCount);
    }

    [Fact]
    public async Task FailedDeliveriesAreRetriedUntilTheReceiverAccepts()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 3);
        await using var emulator = await EmulatorServer.StartAsync(receiver, retrySeconds: 0.02);

        var customer = await new CustomerService(emulator.Client).CreateAsync(new CustomerCreateOptions { Email = "retry@example.com" });
        var events = await receiver.TakeAsync(1);

        Assert.Equal("customer.created", events[0].Type);
        Assert.Equal(customer.Id, Assert.IsType<Customer>(events[0].Data.Object).Id);
    }

    [Fact]
    public async Task DuplicateSwitchDeliversEveryEventTwice()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var emulator = await EmulatorServer.StartAsync(receiver);
        using var http = emulator.Http();
        (await http.PostAsJsonAsync("/_emulator/webhooks", new { duplicate = true })).EnsureSuccessStatusCode();

        await new CustomerService(emulator.Client).CreateAsync(new CustomerCreateOptions { Email = "twice@example.com" });
        var events = await receiver.TakeAsync(2);

        Assert.Equal(events[0].Id, events[1].Id);
    }

    [Fact]
    public async Task ReorderSwitchDeliversAnOperationsEventsInReverse()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var emulator = await EmulatorServer.StartAsync(receiver);
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, "user-9", "nine@example.com");
        using var http = emulator.Http();
        (await http.PostAsJsonAsync("/_emulator/webhooks", new { reorder = true })).EnsureSuccessStatusCode();

        await TestCatalog.PayAsync(http, session, "4242424242424242");
        var events = await receiver.TakeAsync(CheckoutEvents.Length);

        Assert.Equal(Enumerable.Reverse(CheckoutEvents), events.Select(e => e.Type));
    }

    [Fact]
    public async Task ASignatureWithAnotherSecretIsRejectedAndTheRetryWithTheRightOneAccepted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // Retries spread over ~50 s (8 attempts from 0.2 s, doubling), so a slow machine still switches the secret back in time.
        await using var emulator = await EmulatorServer.StartAsync(receiver, retrySeconds: 0.2);
        using var http = emulator.Http();
        (await http.PostAsJsonAsync("/_emulator/webhooks", new { secret = "whsec_not_the_receivers" })).EnsureSuccessStatusCode();
        var forged = await new CustomerService(emulator.Client).CreateAsync(new CustomerCreateOptions { Email = "forged@example.com" });

        await receiver.FirstRejection.WaitAsync(TimeSpan.FromSeconds(15));
        // Once the endpoint's secret is right again, the retried event is accepted.
        (await http.PostAsJsonAsync("/_emulator/webhooks", new { secret = receiver.Secret })).EnsureSuccessStatusCode();
        var events = await receiver.TakeAsync(1);

        Assert.True(receiver.Rejected >= 1);
        Assert.Equal(forged.Id, Assert.IsType<Customer>(events[0].Data.Object).Id);
    }
}
