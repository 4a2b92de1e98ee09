using ChatBlazor.Core.Limits;

namespace ChatBlazor.Core.Billing;

/// <summary>
/// The subscription state machine in one place: which plan a customer's stored state gives its user. Every event
/// updates the stored state and then asks this, so the answer never depends on the order events came in, and the
/// grace-period job asks the same question later with a later clock.
/// </summary>
public static class SubscriptionRules
{
    /// <summary>Stripe's statuses in which the subscription is paid for, or being retried after a failed payment.</summary>
    private static readonly HashSet<string> Live = new(StringComparer.Ordinal) { "active", "trialing", "past_due" };

    /// <summary>
    /// Statuses that end what the subscription bought. <c>incomplete</c> is not among them: the first payment is still
    /// under way, and the user keeps what they had until it succeeds (<c>active</c>) or expires (<c>incomplete_expired</c>).
    /// </summary>
    private static readonly HashSet<string> Ended = new(StringComparer.Ordinal) { "canceled", "unpaid", "incomplete_expired", "paused" };

    public static bool IsLive(string? status) => status is not null && Live.Contains(status);

    /// <summary>The price among a subscription's items that names a plan, else its first (for the record).</summary>
    public static string? PlanPrice(IReadOnlyList<string> priceIds, PlanCatalog catalog) =>
        priceIds.FirstOrDefault(p => catalog.ForStripePrice(p) is not null) ?? priceIds.FirstOrDefault();

    /// <summary>
    /// The plan the user should be on, or null to leave the account's plan as it is (no subscription yet, a first
    /// payment under way, or a price no plan names: an admin's choice is not overwritten by a guess).
    /// A payment that failed longer ago than <paramref name="gracePeriod"/> and is not yet paid ends the plan.
    /// </summary>
    public static string? PlanFor(BillingAccount account, PlanCatalog catalog, DateTimeOffset now, TimeSpan gracePeriod)
    {
        if (account.Status is null)
            return null;
        if (Ended.Contains(account.Status))
            return catalog.Default.Name;
        if (!Live.Contains(account.Status))
            return null;
        if (account.PaymentFailedSince is { } failed && now - failed >= gracePeriod)
            return catalog.Default.Name;
        return catalog.ForStripePrice(account.PriceId)?.Name;
    }

    /// <summary>
    /// Whether an event of subscription <paramref name="incoming"/> may replace the stored one. Events of the stored
    /// subscription always may (their order is checked apart); another subscription replaces it unless the stored one is
    /// live and the other has ended, so the end of an old subscription does not undo the customer's new one.
    /// </summary>
    public static bool Replaces(BillingAccount account, SubscriptionState incoming, bool deleted) =>
        account.SubscriptionId is null || account.SubscriptionId == incoming.SubscriptionId
        || !(IsLive(account.Status) && (deleted || Ended.Contains(incoming.Status)));
}
