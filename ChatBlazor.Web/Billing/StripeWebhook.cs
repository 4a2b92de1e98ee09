using System.Text;
using ChatBlazor.Core.Billing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace ChatBlazor.Web.Billing;

/// <summary>
/// <c>POST /stripe/webhook</c>: checks Stripe's signature over the raw body (<c>Stripe:WebhookSecret</c>, events older
/// than 300 s refused so a captured request cannot be replayed later), turns the event into billing's own words and
/// applies it once (<see cref="BillingEventApplier"/>). 400 for a body that is not a verified event, 200 for the rest
/// (duplicates and types billing ignores included), so Stripe retries only what failed here (a 5xx, e.g. the
/// database away).
/// </summary>
public static class StripeWebhook
{
    public const string Path = "/stripe/webhook";

    /// <summary>The largest event accepted. Stripe's events are a few kilobytes; an invoice with many lines stays far below this.</summary>
    internal const int MaxBodyBytes = 1024 * 1024;

    internal const int ToleranceSeconds = 300;

    public sealed record Receipt(string Id, string Type, string Outcome);

    internal static async Task<Results<Ok<Receipt>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, IOptions<StripeOptions> options, BillingEventApplier applier, ILogger<BillingEventApplier> log, CancellationToken ct)
    {
        var json = await ReadBodyAsync(request, ct);
        if (json is null)
            return TypedResults.Problem($"A Stripe event is at most {MaxBodyBytes} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);
        var signature = request.Headers["Stripe-Signature"].ToString();
        if (signature.Length == 0)
            return TypedResults.Problem("The Stripe-Signature header is missing.", statusCode: StatusCodes.Status400BadRequest);
        Event stripeEvent;
        BillingEvent billingEvent;
        try
        {
            stripeEvent = EventUtility.ConstructEvent(json, signature, options.Value.WebhookSecret, ToleranceSeconds);
            billingEvent = ToBillingEvent(stripeEvent);
        }
        catch (StripeException e)
        {
            // Stripe.net's message says which: the signature, a timestamp outside the tolerance, or the API version.
            log.LogWarning("Refused a Stripe webhook: {Reason}", e.Message);
            StripeWebhookTelemetry.Refused();
            return TypedResults.Problem($"Not a verified Stripe event: {e.Message}", statusCode: StatusCodes.Status400BadRequest);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or Newtonsoft.Json.JsonException)
        {
            // Stripe.net 53 reads the event with System.Text.Json and the object inside with Newtonsoft.Json.
            // Signed with our secret but not an event's JSON: a bug in whoever sent it; retrying cannot help.
            log.LogWarning("Refused a signed Stripe webhook that is not an event: {Reason}", e.Message);
            StripeWebhookTelemetry.Refused();
            return TypedResults.Problem("The body is not the JSON of a Stripe event.", statusCode: StatusCodes.Status400BadRequest);
        }
        var outcome = await applier.ApplyAsync(billingEvent, ct);
        log.LogInformation("Stripe event {EventId} ({Type}): {Outcome}", stripeEvent.Id, stripeEvent.Type, outcome);
        StripeWebhookTelemetry.Received(stripeEvent.Type, outcome.ToString().ToLowerInvariant(), At(stripeEvent.Created), DateTimeOffset.UtcNow);
        return TypedResults.Ok(new Receipt(stripeEvent.Id, stripeEvent.Type, outcome.ToString()));
    }

    /// <summary>The raw body as sent (the signature covers its exact bytes); null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
            return null;
        using var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
                return null;
            body.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
    }

    /// <summary>Stripe's event in billing's words; anything billing does not act on becomes an <see cref="IgnoredEvent"/>.</summary>
    internal static BillingEvent ToBillingEvent(Event stripeEvent)
    {
        var created = At(stripeEvent.Created) ?? throw new StripeException("The event has no created time.");
        switch (stripeEvent.Type, stripeEvent.Data?.Object)
        {
            // Only a subscription's checkout links a customer to a user; a one-off payment has nothing to link.
            case (StripeEventTypes.CheckoutSessionCompleted, Session { Mode: "subscription", ClientReferenceId: { Length: > 0 } userId, CustomerId: { Length: > 0 } customerId } session):
                return new CheckoutCompleted(stripeEvent.Id, created, userId, customerId, session.SubscriptionId);
            case (StripeEventTypes.SubscriptionCreated or StripeEventTypes.SubscriptionUpdated or StripeEventTypes.SubscriptionDeleted,
                Subscription { CustomerId: { Length: > 0 } } subscription):
                return new SubscriptionChanged(stripeEvent.Id, stripeEvent.Type, created, State(subscription));
            case (StripeEventTypes.InvoiceFinalized or StripeEventTypes.InvoicePaid or StripeEventTypes.InvoicePaymentFailed,
                Invoice { CustomerId: { Length: > 0 } } invoice):
                return new InvoiceChanged(stripeEvent.Id, stripeEvent.Type, created, State(invoice));
            default:
                return new IgnoredEvent(stripeEvent.Id, stripeEvent.Type, created);
        }
    }

    private static SubscriptionState State(Subscription subscription)
    {
        var items = subscription.Items?.Data ?? [];
        // Since API version 2025-03-31 the period belongs to each item; the plan's item and any metered one share it.
        var first = items.FirstOrDefault();
        return new SubscriptionState(subscription.Id, subscription.CustomerId, subscription.Status ?? "",
            [.. items.Select(i => i.Price?.Id).OfType<string>()],
            first is null ? null : At(first.CurrentPeriodStart), first is null ? null : At(first.CurrentPeriodEnd), subscription.CancelAtPeriodEnd);
    }

    internal static InvoiceState State(Invoice invoice) => new(invoice.Id, invoice.CustomerId, invoice.Parent?.SubscriptionDetails?.SubscriptionId,
        invoice.Status ?? "", invoice.AmountDue, invoice.AmountPaid, invoice.Total, invoice.Currency ?? "", invoice.HostedInvoiceUrl, invoice.InvoicePdf,
        At(invoice.PeriodStart), At(invoice.PeriodEnd), At(invoice.Created) ?? DateTimeOffset.UnixEpoch);

    /// <summary>Stripe.net gives Unix times as UTC DateTimes, and an absent one as its default; that is no time.</summary>
    private static DateTimeOffset? At(DateTime time) =>
        time <= DateTime.UnixEpoch ? null : new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
