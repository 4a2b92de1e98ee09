using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Limits;
using Plan = ChatBlazor.Core.Limits.Plan;
using ChatBlazor.Web.Security;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace ChatBlazor.Web.Billing;

/// <summary>Stripe could not make the page a user was sent to; the message says so in words a user can act on.</summary>
public sealed class BillingUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The two Stripe pages a user is sent to: Checkout, to subscribe to a plan, and the customer portal, to change
/// card, plan or cancellation. Stripe answers the user's return with a webhook; nothing here changes a plan.
/// Return links are built from <c>App:PublicUrl</c>, else from the address the page was opened on
/// (<paramref name="fallbackBase"/>: host filtering allows only App:PublicUrl's host and loopback).
/// </summary>
public sealed class BillingSessions(IOptions<StripeOptions> stripe, IOptions<AppOptions> app, IServiceProvider services, ILogger<BillingSessions> log)
{
    /// <summary>Where Checkout sends a user who paid: the billing page, which then waits for the webhook.</summary>
    public const string CheckoutDonePath = "billing?checkout=done";

    /// <summary>
    /// A Checkout session for <paramref name="plan"/> (its price and, if it has one, its metered token price); returns
    /// its URL. <paramref name="account"/> is the user's as stored now: a live subscription changes plan in the portal,
    /// since a second checkout would bill the user twice.
    /// </summary>
    public async Task<string> CheckoutUrlAsync(string userId, string email, BillingAccount? account, Plan plan, string fallbackBase, CancellationToken ct = default)
    {
        if (SubscriptionRules.IsLive(account?.Status))
            throw new BillingUnavailableException("You already have a subscription: change your plan under Manage billing.");
        var customerId = account?.CustomerId;
        if (plan.StripePriceId is null)
            throw new BillingUnavailableException($"The {plan.Name} plan cannot be bought: it has no Stripe price (Plans:{plan.Name}:StripePriceId).");
        List<SessionLineItemOptions> items = [new() { Price = plan.StripePriceId, Quantity = 1 }];
        // A metered price has no quantity: the meter's events decide what is billed.
        if (plan.StripeMeteredPriceId is not null)
            items.Add(new SessionLineItemOptions { Price = plan.StripeMeteredPriceId });
        var options = new SessionCreateOptions
        {
            Mode = "subscription",
            ClientReferenceId = userId,
            // The user's customer when they have one, so Stripe keeps one customer (card, invoices) per user.
            Customer = customerId,
            CustomerEmail = customerId is null ? email : null,
            LineItems = items,
            SuccessUrl = Link(fallbackBase, CheckoutDonePath),
            CancelUrl = Link(fallbackBase, "billing"),
        };
        var session = await CallAsync(client => new SessionService(client).CreateAsync(options, cancellationToken: ct), "the checkout page");
        return session.Url;
    }

    /// <summary>A customer-portal session for the customer; returns its URL.</summary>
    public async Task<string> PortalUrlAsync(string customerId, string fallbackBase, CancellationToken ct = default)
    {
        var options = new Stripe.BillingPortal.SessionCreateOptions { Customer = customerId, ReturnUrl = Link(fallbackBase, "billing") };
        var session = await CallAsync(client => new Stripe.BillingPortal.SessionService(client).CreateAsync(options, cancellationToken: ct), "the billing portal");
        return session.Url;
    }

    private string Link(string fallbackBase, string path) =>
        new Uri(app.Value.PublicBase() ?? new Uri(fallbackBase.EndsWith('/') ? fallbackBase : fallbackBase + "/"), path).AbsoluteUri;

    private async Task<T> CallAsync<T>(Func<StripeClient, Task<T>> call, string what)
    {
        if (!stripe.Value.IsEnabled)
            throw new BillingUnavailableException("Billing is not configured on this server, so there is nothing to pay.");
        try
        {
            // Resolved here, not injected: the client exists only when billing is on.
            return await call(services.GetRequiredService<StripeClient>());
        }
        catch (StripeException e)
        {
            log.LogWarning("Stripe refused to open {What}: {Reason}", what, e.Message);
            throw new BillingUnavailableException($"Stripe could not open {what}: {e.StripeError?.Message ?? e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            log.LogWarning("Stripe could not be reached to open {What}: {Reason}", what, e.Message);
            throw new BillingUnavailableException($"Stripe cannot be reached right now, so {what} cannot open. Try again in a few minutes; nothing was charged.", e);
        }
    }
}
