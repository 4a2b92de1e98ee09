using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ChatBlazor.StripeEmulator.Model;

// The objects the emulator keeps, shaped like Stripe's (API version 2026-10-28.endive) and serialised with snake_case
// names. Only the fields ChatBlazor reads, plus those Stripe.net needs to deserialise, are here. Fields that live only
// in the emulator (a customer's test card, which meter events an invoice has billed) are [JsonIgnore].

public abstract class StripeObject
{
    [JsonPropertyOrder(-3)]
    public required string Id { get; init; }

    [JsonPropertyOrder(-2)]
    public abstract string Object { get; }

    public long Created { get; init; }
    public bool Livemode => false;
}

public sealed class StripeList<T>(IReadOnlyList<T> data, string url, bool hasMore)
{
    public string Object => "list";
    public IReadOnlyList<T> Data { get; } = data;
    public bool HasMore { get; } = hasMore;
    public string Url { get; } = url;
}

public sealed class Customer : StripeObject
{
    public override string Object => "customer";
    public string? Email { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
    public string Currency => "usd";
    public bool Delinquent { get; set; }

    /// <summary>The card number last entered on a pay page or in the portal; it decides whether charges succeed.</summary>
    [JsonIgnore]
    public string? Card { get; set; }
}

public sealed class Product : StripeObject
{
    public override string Object => "product";
    public required string Name { get; set; }
    public bool Active { get; set; } = true;
    public string? Description { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
    public long Updated { get; set; }
}

public sealed class Price : StripeObject
{
    public override string Object => "price";
    public bool Active { get; set; } = true;
    public required string Currency { get; init; }
    /// <summary>Whole cents; null when <see cref="UnitAmountDecimal"/> has a fraction (Stripe's rule).</summary>
    public long? UnitAmount { get; init; }
    /// <summary>
    /// The unit amount in cents as Stripe writes it, a decimal string (<c>"2000"</c>, <c>"0.0002"</c> for a per-token
    /// price): always present, also when the price was made with a whole <c>unit_amount</c>.
    /// </summary>
    public string? UnitAmountDecimal { get; init; }
    public required string Product { get; init; }
    public string Type => Recurring is null ? "one_time" : "recurring";
    public string BillingScheme => "per_unit";
    public PriceRecurring? Recurring { get; init; }
    public string? Nickname { get; set; }
    public string? LookupKey { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];

    [JsonIgnore]
    public bool IsMetered => Recurring?.UsageType == "metered";

    /// <summary>
    /// What <paramref name="quantity"/> units cost, in whole cents: quantity × unit amount, rounded to the nearest
    /// cent with halves away from zero (0.5 → 1). Stripe rounds a per-unit line to an integer amount; the emulator
    /// rounds each line once, so a per-token price of 0.0002 ¢ bills 12 345 tokens as 2 ¢ (2.469).
    /// </summary>
    public long AmountFor(long quantity)
    {
        if (UnitAmountDecimal is null)
            return quantity * (UnitAmount ?? 0);
        var exact = quantity * decimal.Parse(UnitAmountDecimal, System.Globalization.CultureInfo.InvariantCulture);
        return (long)Math.Round(exact, MidpointRounding.AwayFromZero);
    }
}

public sealed class PriceRecurring
{
    public required string Interval { get; init; }
    public long IntervalCount { get; init; } = 1;
    public string UsageType { get; init; } = "licensed";
    public string? Meter { get; init; }
}

public sealed class CheckoutSession : StripeObject
{
    public override string Object => "checkout.session";
    public required string Mode { get; init; }
    public string Status { get; set; } = "open";
    public string PaymentStatus { get; set; } = "unpaid";
    public string? ClientReferenceId { get; init; }
    public string? Customer { get; set; }
    public string? CustomerEmail { get; init; }
    public CheckoutCustomerDetails? CustomerDetails { get; set; }
    public required string SuccessUrl { get; init; }
    public string? CancelUrl { get; init; }
    public string? Url { get; set; }
    public string? Subscription { get; set; }
    public string? Invoice { get; set; }
    public long? AmountTotal { get; init; }
    public required string Currency { get; init; }
    public long ExpiresAt { get; init; }
    public Dictionary<string, string> Metadata { get; set; } = [];

    [JsonIgnore]
    public IReadOnlyList<(string Price, long? Quantity)> LineItems { get; init; } = [];
}

public sealed class CheckoutCustomerDetails
{
    public string? Email { get; init; }
}

public sealed class Subscription : StripeObject
{
    public override string Object => "subscription";
    public required string Customer { get; init; }
    public string Status { get; set; } = "incomplete";
    public required StripeList<SubscriptionItem> Items { get; set; }
    public bool CancelAtPeriodEnd { get; set; }
    public long? CancelAt { get; set; }
    public long? CanceledAt { get; set; }
    public long? EndedAt { get; set; }
    public long StartDate { get; init; }
    public long BillingCycleAnchor { get; init; }
    public string CollectionMethod => "charge_automatically";
    public required string Currency { get; init; }
    public string? LatestInvoice { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
}

public sealed class SubscriptionItem : StripeObject
{
    public override string Object => "subscription_item";
    public required Price Price { get; set; }

    // Stripe leaves quantity out for a metered item (Stripe.net reads it as a plain long, so null would not parse).
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Quantity { get; set; }
    public required string Subscription { get; init; }
    public long CurrentPeriodStart { get; set; }
    public long CurrentPeriodEnd { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
}

public sealed class Invoice : StripeObject
{
    public override string Object => "invoice";
    public required string Customer { get; init; }
    public string Status { get; set; } = "draft";
    public required string Currency { get; init; }
    public string? Number { get; set; }
    public long AmountDue { get; set; }
    public long AmountPaid { get; set; }
    public long AmountRemaining { get; set; }
    public long Subtotal { get; set; }
    public long Total { get; set; }
    public long AttemptCount { get; set; }
    public bool Attempted { get; set; }
    public required string BillingReason { get; init; }
    public string CollectionMethod => "charge_automatically";
    public long PeriodStart { get; init; }
    public long PeriodEnd { get; init; }
    public string? HostedInvoiceUrl { get; set; }
    public string? InvoicePdf { get; set; }
    public InvoiceParent? Parent { get; init; }
    public required StripeList<InvoiceLine> Lines { get; set; }
    public InvoiceStatusTransitions StatusTransitions { get; } = new();
    public Dictionary<string, string> Metadata { get; set; } = [];
}

public sealed class InvoiceParent
{
    public string Type => "subscription_details";
    public required InvoiceSubscriptionDetails SubscriptionDetails { get; init; }
}

public sealed class InvoiceSubscriptionDetails
{
    public required string Subscription { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
}

public sealed class InvoiceStatusTransitions
{
    public long? FinalizedAt { get; set; }
    public long? PaidAt { get; set; }
    public long? MarkedUncollectibleAt { get; set; }
    public long? VoidedAt { get; set; }
}

public sealed class InvoiceLine : StripeObject
{
    public override string Object => "line_item";
    public required string Invoice { get; init; }
    public long Amount { get; init; }
    public required string Currency { get; init; }
    public string? Description { get; init; }
    public long? Quantity { get; init; }
    public required LinePeriod Period { get; init; }
    public required LinePricing Pricing { get; init; }
    public required LineParent Parent { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
}

public sealed class LinePeriod
{
    public long Start { get; init; }
    public long End { get; init; }
}

public sealed class LinePricing
{
    public string Type => "price_details";
    public required LinePriceDetails PriceDetails { get; init; }
    public string? UnitAmountDecimal { get; init; }
}

public sealed class LinePriceDetails
{
    public required string Price { get; init; }
    public required string Product { get; init; }
}

public sealed class LineParent
{
    public string Type => "subscription_item_details";
    public required LineSubscriptionItemDetails SubscriptionItemDetails { get; init; }
}

public sealed class LineSubscriptionItemDetails
{
    public required string Subscription { get; init; }
    public required string SubscriptionItem { get; init; }
    public bool Proration => false;
}

public sealed class Meter : StripeObject
{
    public override string Object => "billing.meter";
    public required string DisplayName { get; set; }
    public required string EventName { get; init; }
    public string Status { get; set; } = "active";
    public string EventTimeWindow => "day";
    public MeterCustomerMapping CustomerMapping { get; init; } = new();
    public MeterAggregation DefaultAggregation { get; init; } = new();
    public MeterValueSettings ValueSettings { get; init; } = new();
    public long Updated { get; set; }
}

public sealed class MeterCustomerMapping
{
    public string EventPayloadKey { get; init; } = "stripe_customer_id";
    public string Type => "by_id";
}

public sealed class MeterAggregation
{
    public string Formula { get; init; } = "sum";
}

public sealed class MeterValueSettings
{
    public string EventPayloadKey { get; init; } = "value";
}

/// <summary>Stripe's billing.meter_event has no id: its identifier is what makes it unique.</summary>
public sealed class MeterEvent
{
    public string Object => "billing.meter_event";
    public long Created { get; init; }
    public bool Livemode => false;
    public required string EventName { get; init; }
    public required string Identifier { get; init; }
    public required Dictionary<string, string> Payload { get; init; }
    public long Timestamp { get; init; }

    /// <summary>The invoice that billed this event, once a period close has counted it.</summary>
    [JsonIgnore]
    public string? BilledBy { get; set; }
}

public sealed class PortalSession : StripeObject
{
    public override string Object => "billing_portal.session";
    public required string Customer { get; init; }
    public string? ReturnUrl { get; init; }
    public required string Url { get; init; }
}

public sealed class StripeEvent : StripeObject
{
    public override string Object => "event";
    public required string ApiVersion { get; init; }
    public required string Type { get; init; }
    public required EventData Data { get; init; }
    public long PendingWebhooks { get; set; }
    public EventRequest Request { get; } = new();
}

public sealed class EventData
{
    /// <summary>A snapshot of the object when the event happened, not a live reference.</summary>
    public required JsonObject Object { get; init; }
    public JsonObject? PreviousAttributes { get; init; }
}

public sealed class EventRequest
{
    public string? Id => null;
    public string? IdempotencyKey => null;
}
