namespace ChatBlazor.Core.Billing;

/// <summary>
/// A verified Stripe event in the few words billing needs. The web project reads Stripe's JSON (Stripe.net) and
/// passes these, so the domain depends on no Stripe library. <see cref="Created"/> is the event's own time, which
/// orders events that Stripe may deliver out of order.
/// </summary>
public abstract record BillingEvent(string Id, string Type, DateTimeOffset Created);

/// <summary><c>checkout.session.completed</c> of a subscription checkout: <see cref="UserId"/> is its <c>client_reference_id</c>.</summary>
public sealed record CheckoutCompleted(string Id, DateTimeOffset Created, string UserId, string CustomerId, string? SubscriptionId)
    : BillingEvent(Id, StripeEventTypes.CheckoutSessionCompleted, Created);

/// <summary><c>customer.subscription.created</c>, <c>.updated</c> or <c>.deleted</c>, with the subscription as it was then.</summary>
public sealed record SubscriptionChanged(string Id, string Type, DateTimeOffset Created, SubscriptionState Subscription) : BillingEvent(Id, Type, Created)
{
    public bool Deleted => Type == StripeEventTypes.SubscriptionDeleted;
}

/// <summary>
/// A subscription's state. <see cref="PriceIds"/> are its items' prices: the flat price that names the plan and,
/// when the plan meters tokens, the metered one.
/// </summary>
public sealed record SubscriptionState(string SubscriptionId, string CustomerId, string Status, IReadOnlyList<string> PriceIds,
    DateTimeOffset? CurrentPeriodStart, DateTimeOffset? CurrentPeriodEnd, bool CancelAtPeriodEnd);

/// <summary><c>invoice.finalized</c>, <c>invoice.paid</c> or <c>invoice.payment_failed</c>, with the invoice as it was then.</summary>
public sealed record InvoiceChanged(string Id, string Type, DateTimeOffset Created, InvoiceState Invoice) : BillingEvent(Id, Type, Created);

public sealed record InvoiceState(string InvoiceId, string CustomerId, string? SubscriptionId, string Status, long AmountDue, long AmountPaid, long Total,
    string Currency, string? HostedInvoiceUrl, string? PdfUrl, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd, DateTimeOffset Created);

/// <summary>An event billing does not act on (another type, or a checkout that is not a subscription's); answered 200 and forgotten.</summary>
public sealed record IgnoredEvent(string Id, string Type, DateTimeOffset Created) : BillingEvent(Id, Type, Created);

/// <summary>The Stripe event types billing acts on (Stripe's own names).</summary>
public static class StripeEventTypes
{
    public const string CheckoutSessionCompleted = "checkout.session.completed";
    public const string SubscriptionCreated = "customer.subscription.created";
    public const string SubscriptionUpdated = "customer.subscription.updated";
    public const string SubscriptionDeleted = "customer.subscription.deleted";
    public const string InvoiceFinalized = "invoice.finalized";
    public const string InvoicePaid = "invoice.paid";
    public const string InvoicePaymentFailed = "invoice.payment_failed";
}
