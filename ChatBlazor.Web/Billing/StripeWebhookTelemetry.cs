using System.Diagnostics.Metrics;

namespace ChatBlazor.Web.Billing;

/// <summary>
/// The Stripe webhook's meter (<see cref="Name"/>): events received by type and outcome (what billing did with them,
/// or <c>refused</c> for a body that is not a verified event), and their lag: from the event's creation at Stripe to
/// its arrival here, which grows when Stripe retries deliveries this endpoint failed.
/// </summary>
public static class StripeWebhookTelemetry
{
    public const string Name = "ChatBlazor.Billing.Webhooks";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Events = Meter.CreateCounter<long>("chatblazor.stripe.webhook.events", "{event}", "Stripe webhook events, by type and outcome.");

    private static readonly Histogram<double> Lag = Meter.CreateHistogram("chatblazor.stripe.webhook.lag", "s", "From the event's creation at Stripe to its arrival here.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400] });

    internal static void Received(string type, string outcome, DateTimeOffset? created, DateTimeOffset now)
    {
        Events.Add(1, new("type", type), new("outcome", outcome));
        if (created is { } at)
            Lag.Record(Math.Max(0, (now - at).TotalSeconds), new KeyValuePair<string, object?>("type", type));
    }

    internal static void Refused() => Events.Add(1, new("type", "unverified"), new("outcome", "refused"));
}
