using System.Net;
using Stripe;
using Stripe.Checkout;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>Checkout sessions and the pay page: what paying (or a declined card) creates.</summary>
public sealed class CheckoutTests
{
    [Fact]
    public async Task SessionUrlOpensAPayPageServedByTheEmulator()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, "user-1", "one@example.com");
        using var http = emulator.Http();

        var page = await http.GetStringAsync(new Uri(session.Url).PathAndQuery);

        Assert.StartsWith("cs_test_", session.Id);
        Assert.StartsWith(emulator.Url + "/checkout/", session.Url);
        Assert.Equal("open", session.Status);
        Assert.Equal(2000, session.AmountTotal);
        Assert.Contains("name=\"card\"", page);
        Assert.Contains("20.00 USD", page);
    }

    [Fact]
    public async Task PayingCreatesCustomerAndActiveSubscriptionAndRedirectsToSuccessUrl()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, "user-2", "two@example.com");
        using var http = emulator.Http();

        var response = await TestCatalog.PayAsync(http, session, "4242 4242 4242 4242");
        var paid = await new SessionService(emulator.Client).GetAsync(session.Id, new SessionGetOptions { Expand = ["subscription"] });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"http://app.test/billing?session={session.Id}", response.Headers.Location!.ToString());
        Assert.Equal("complete", paid.Status);
        Assert.Equal("paid", paid.PaymentStatus);
        Assert.Equal("user-2", paid.ClientReferenceId);
        var customer = await new CustomerService(emulator.Client).GetAsync(paid.CustomerId);
        Assert.Equal("two@example.com", customer.Email);
        var subscription = paid.Subscription;
        Assert.Equal("active", subscription.Status);
        Assert.Equal(customer.Id, subscription.CustomerId);
        Assert.Equal([catalog.Plan.Id, catalog.Tokens.Id], subscription.Items.Data.Select(i => i.Price.Id));
        var item = subscription.Items.Data[0];
        Assert.Equal(item.CurrentPeriodStart.AddMonths(1), item.CurrentPeriodEnd);
        var invoice = await new InvoiceService(emulator.Client).GetAsync(subscription.LatestInvoiceId);
        Assert.Equal("paid", invoice.Status);
        Assert.Equal(2000, invoice.AmountPaid);
        Assert.Equal(subscription.Id, invoice.Parent.SubscriptionDetails.SubscriptionId);
    }

    [Fact]
    public async Task DeclinedCardLeavesSessionOpenAndSubscriptionIncompleteUntilAGoodCardPays()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var session = await catalog.CheckoutAsync(emulator.Client, "user-3", "three@example.com");
        using var http = emulator.Http();
        var sessions = new SessionService(emulator.Client);

        var declined = await TestCatalog.PayAsync(http, session, "4000000000000002");
        var afterDecline = await sessions.GetAsync(session.Id, new SessionGetOptions { Expand = ["subscription", "invoice"] });
        var retried = await TestCatalog.PayAsync(http, session, "4242424242424242");
        var afterRetry = await sessions.GetAsync(session.Id, new SessionGetOptions { Expand = ["subscription", "invoice"] });

        Assert.Equal(HttpStatusCode.OK, declined.StatusCode);
        Assert.Contains("Your card was declined.", await declined.Content.ReadAsStringAsync());
        Assert.Equal("open", afterDecline.Status);
        Assert.Equal("incomplete", afterDecline.Subscription.Status);
        Assert.Equal("open", afterDecline.Invoice.Status);
        Assert.Equal(HttpStatusCode.Redirect, retried.StatusCode);
        Assert.Equal("complete", afterRetry.Status);
        Assert.Equal(afterDecline.SubscriptionId, afterRetry.SubscriptionId);
        Assert.Equal("active", afterRetry.Subscription.Status);
        Assert.Equal("paid", afterRetry.Invoice.Status);
        Assert.Equal(2, afterRetry.Invoice.AttemptCount);
    }

    [Fact]
    public async Task CustomerAndCustomerEmailTogetherAreRefused()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var catalog = await TestCatalog.CreateAsync(emulator.Client);
        var customer = await new CustomerService(emulator.Client).CreateAsync(new CustomerCreateOptions { Email = "c@example.com" });

        var error = await Assert.ThrowsAsync<StripeException>(() => new SessionService(emulator.Client).CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            Customer = customer.Id,
            CustomerEmail = "c@example.com",
            SuccessUrl = "http://app.test/ok",
            LineItems = [new SessionLineItemOptions { Price = catalog.Plan.Id, Quantity = 1 }],
        }));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("customer_email", error.StripeError.Param);
    }
}
