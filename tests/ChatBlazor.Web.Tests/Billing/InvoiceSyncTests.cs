using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Billing;
using ChatBlazor.Web.Billing;
using Microsoft.Extensions.Logging.Abstractions;
using Stripe;
using Stripe.Checkout;
using ChatBlazor.Testing;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// The invoice sync against the real database and the real emulator, which has no webhook endpoint here: every
/// invoice in PostgreSQL came through the sync.
/// </summary>
public sealed class InvoiceSyncTests : IAsyncLifetime
{
    private readonly BillingJobsDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();
    public Task DisposeAsync() => _database.DisposeAsync();

    private InvoiceSync Sync(StripeClient client, ClockDouble clock) => new(_database, client,
        new BillingEventApplier(_database, BillingJobsDatabase.Catalog, new BillingPolicy(TimeSpan.FromDays(7)), new AuditLog(_database, clock), clock,
            NullLogger<BillingEventApplier>.Instance),
        clock, NullLogger<InvoiceSync>.Instance);

    /// <summary>A checkout of a $20 monthly plan, paid on the emulator's pay page with <paramref name="card"/>.</summary>
    private static async Task<Session> CheckoutAsync(EmulatorServer emulator, string userId, string card)
    {
        var plan = await new PriceService(emulator.Client).CreateAsync(new PriceCreateOptions
        {
            ProductData = new PriceProductDataOptions { Name = "Pro" },
            Currency = "usd",
            UnitAmount = 2000,
            Recurring = new PriceRecurringOptions { Interval = "month" },
        });
        var session = await new SessionService(emulator.Client).CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            ClientReferenceId = userId,
            CustomerEmail = "sync@example.com",
            SuccessUrl = "http://app.test/billing",
            LineItems = [new SessionLineItemOptions { Price = plan.Id, Quantity = 1 }],
        });
        await PayAsync(emulator, session, card);
        return await new SessionService(emulator.Client).GetAsync(session.Id);
    }

    /// <summary>Submits the pay page's form as a browser would.</summary>
    private static async Task PayAsync(EmulatorServer emulator, Session session, string card)
    {
        using var http = emulator.Http();
        using var response = await http.PostAsync(new Uri(session.Url).PathAndQuery, new FormUrlEncodedContent([new("card", card)]));
        Assert.True((int)response.StatusCode is >= 200 and < 400, $"the pay page answered {(int)response.StatusCode}");
    }

    [Fact]
    public async Task AnInvoiceNoWebhookDeliveredIsBroughtInAndItsStatusFollowsThePayment()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var user = await _database.NewUserAsync();
        var declined = await CheckoutAsync(emulator, user, "4000000000000002");
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()); // whole seconds, as PostgreSQL keeps microseconds
        await _database.LinkAsync(user, declined.CustomerId, BillingJobsDatabase.ProPrice, start, start.AddMonths(1), status: "incomplete");
        var clock = new ClockDouble(start);

        await Sync(emulator.Client, clock).RunAsync();
        var open = Assert.Single(await _database.InvoicesAsync(declined.CustomerId));
        await PayAsync(emulator, declined, "4242424242424242");
        clock.Now = start.AddHours(1);
        await Sync(emulator.Client, clock).RunAsync();
        var paid = Assert.Single(await _database.InvoicesAsync(declined.CustomerId));

        Assert.Equal((declined.InvoiceId, "open", 2000L, 0L, user, declined.SubscriptionId), (open.Id, open.Status, open.AmountDue, open.AmountPaid, open.UserId, open.SubscriptionId));
        Assert.Equal(("paid", 2000L, start.AddHours(1)), (paid.Status, paid.AmountPaid, paid.EventAt));
        Assert.StartsWith(emulator.Url + "/invoices/", paid.HostedInvoiceUrl);
    }

    [Fact]
    public async Task AWebhookStateNewerThanTheReadIsKeptAndUnlinkedCustomersAreNotRead()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var user = await _database.NewUserAsync();
        var session = await CheckoutAsync(emulator, user, "4242424242424242");
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()); // whole seconds, as PostgreSQL keeps microseconds
        await _database.LinkAsync(user, session.CustomerId, BillingJobsDatabase.ProPrice, start, start.AddMonths(1));
        var unlinked = await CheckoutAsync(emulator, "someone-else", "4242424242424242");
        var clock = new ClockDouble(start);
        var applier = new BillingEventApplier(_database, BillingJobsDatabase.Catalog, new BillingPolicy(TimeSpan.FromDays(7)), new AuditLog(_database, clock),
            clock, NullLogger<BillingEventApplier>.Instance);
        // A webhook of a moment after the sync's read says the invoice was voided (a state the emulator never reaches).
        await applier.ApplyAsync(new InvoiceChanged($"evt_{Guid.NewGuid():N}", StripeEventTypes.InvoiceFinalized, start.AddMinutes(1),
            new InvoiceState(session.InvoiceId, session.CustomerId, session.SubscriptionId, "void", 2000, 0, 2000, "usd", null, null, null, null, start)));

        await Sync(emulator.Client, clock).RunAsync();

        Assert.Equal("void", Assert.Single(await _database.InvoicesAsync(session.CustomerId)).Status);
        Assert.Empty(await _database.InvoicesAsync(unlinked.CustomerId));
    }
}
