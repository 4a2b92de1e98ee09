using System.Globalization;
using System.Text.Json.Nodes;
using ChatBlazor.StripeEmulator.Protocol;

namespace ChatBlazor.StripeEmulator.Model;

/// <summary>
/// What happens to subscriptions and invoices: paying a checkout session, charging an invoice, closing a period.
/// Each method runs inside one <see cref="EmulatorStore.Transaction"/> and emits the events Stripe would.
/// </summary>
public static class Billing
{
    public enum PayOutcome { Paid, Declined, AlreadyComplete }

    /// <summary>
    /// The pay page's submit. The first attempt creates the customer (if the session has none) and the subscription
    /// with its first invoice; a declined card leaves them incomplete and the session open, so paying again (with a
    /// good card) pays that same invoice, as Stripe's hosted checkout does.
    /// </summary>
    public static PayOutcome PayCheckout(EmulatorStore.Transaction tx, CheckoutSession session, string card, string baseUrl)
    {
        if (session.Status != "open")
            return PayOutcome.AlreadyComplete;

        var customer = session.Customer is { } customerId
            ? tx.Get<Customer>(customerId, "customer")
            : null;
        if (customer is null)
        {
            customer = tx.Add(new Customer { Id = Ids.New("cus"), Created = tx.Now, Email = session.CustomerEmail });
            session.Customer = customer.Id;
            tx.Emit("customer.created", customer);
        }
        customer.Card = card;
        session.CustomerDetails = new CheckoutCustomerDetails { Email = customer.Email };

        Subscription subscription;
        Invoice invoice;
        var created = session.Subscription is null;
        if (created)
        {
            subscription = NewSubscription(tx, customer, session.LineItems, session.Currency, session.Metadata);
            invoice = NewInvoice(tx, subscription, "subscription_create", LicensedLines(subscription), baseUrl);
            session.Subscription = subscription.Id;
            session.Invoice = invoice.Id;
        }
        else
        {
            subscription = tx.Get<Subscription>(session.Subscription!, "subscription");
            invoice = tx.Get<Invoice>(session.Invoice!, "invoice");
        }

        var paid = TestCards.Charges(card);
        RecordAttempt(invoice, paid, tx.Now);
        if (paid)
        {
            var previousStatus = subscription.Status;
            subscription.Status = "active";
            session.Status = "complete";
            session.PaymentStatus = "paid";
            tx.Emit("checkout.session.completed", session);
            if (created)
                tx.Emit("customer.subscription.created", subscription);
            else
                tx.Emit("customer.subscription.updated", subscription, new JsonObject { ["status"] = previousStatus });
            if (created)
                tx.Emit("invoice.finalized", invoice);
            tx.Emit("invoice.paid", invoice);
            return PayOutcome.Paid;
        }

        if (created)
        {
            tx.Emit("customer.subscription.created", subscription);
            tx.Emit("invoice.finalized", invoice);
        }
        tx.Emit("invoice.payment_failed", invoice);
        return PayOutcome.Declined;
    }

    /// <summary>Charges an open invoice to the customer's card (the hosted invoice page's "pay", or a retry).</summary>
    public static bool PayInvoice(EmulatorStore.Transaction tx, Invoice invoice)
    {
        if (invoice.Status != "open")
            throw StripeApiException.InvalidRequest($"Invoice {invoice.Id} is {invoice.Status}, not open.");
        var customer = tx.Get<Customer>(invoice.Customer, "customer");
        var paid = TestCards.Charges(customer.Card);
        RecordAttempt(invoice, paid, tx.Now);
        tx.Emit(paid ? "invoice.paid" : "invoice.payment_failed", invoice);
        if (paid && invoice.Parent?.SubscriptionDetails.Subscription is { } subscriptionId
            && tx.Get<Subscription>(subscriptionId, "subscription") is { Status: "past_due" or "incomplete" } subscription)
        {
            var previous = subscription.Status;
            subscription.Status = "active";
            tx.Emit("customer.subscription.updated", subscription, new JsonObject { ["status"] = previous });
        }
        return paid;
    }

    /// <summary>
    /// Ends the subscription's current period now: bills the metered usage reported since the last close (quantity =
    /// the sum of the meter events' values for this customer and meter), then either ends the subscription (cancel at
    /// period end) or rolls every item into the next period, bills its licensed items in advance, and charges the
    /// invoice. The emulator runs on wall time, so "usage since the last close" stands for "usage in the period".
    /// </summary>
    public static Invoice? ClosePeriod(EmulatorStore.Transaction tx, Subscription subscription, bool forceFailure, string baseUrl)
    {
        if (subscription.Status is not ("active" or "past_due"))
            throw StripeApiException.InvalidRequest($"Subscription {subscription.Id} is {subscription.Status}; only an active or past_due one has a period to close.");

        var lines = new List<(SubscriptionItem Item, long Quantity, long Start, long End, List<MeterEvent> Usage)>();
        foreach (var item in subscription.Items.Data.Where(i => i.Price.IsMetered))
        {
            var meter = tx.Get<Meter>(item.Price.Recurring!.Meter!, "billing.meter");
            var usage = UnbilledUsage(tx, subscription.Customer, meter);
            // Values were checked to be integers when the events were recorded.
            var quantity = usage.Sum(e => long.Parse(e.Payload[meter.ValueSettings.EventPayloadKey], CultureInfo.InvariantCulture));
            lines.Add((item, quantity, item.CurrentPeriodStart, item.CurrentPeriodEnd, usage));
        }

        if (subscription.CancelAtPeriodEnd)
        {
            var previous = subscription.Status;
            subscription.Status = "canceled";
            subscription.EndedAt = subscription.Items.Data.Max(i => i.CurrentPeriodEnd);
            subscription.CanceledAt ??= tx.Now;
            tx.Emit("customer.subscription.deleted", subscription, new JsonObject { ["status"] = previous });
        }
        else
        {
            var previousPeriods = new JsonArray();
            foreach (var item in subscription.Items.Data)
            {
                previousPeriods.Add(new JsonObject
                {
                    ["id"] = item.Id,
                    ["current_period_start"] = item.CurrentPeriodStart,
                    ["current_period_end"] = item.CurrentPeriodEnd,
                });
                item.CurrentPeriodStart = item.CurrentPeriodEnd;
                item.CurrentPeriodEnd = EmulatorStore.PeriodEnd(item.CurrentPeriodStart, item.Price.Recurring!);
            }
            tx.Emit("customer.subscription.updated", subscription,
                new JsonObject { ["items"] = new JsonObject { ["data"] = previousPeriods } });
            foreach (var item in subscription.Items.Data.Where(i => !i.Price.IsMetered))
                lines.Add((item, item.Quantity ?? 1, item.CurrentPeriodStart, item.CurrentPeriodEnd, []));
        }

        if (lines.Count == 0 || lines.All(l => l.Quantity == 0 && l.Item.Price.IsMetered) && subscription.Status == "canceled")
            return null;

        var invoice = NewInvoice(tx, subscription, "subscription_cycle",
            lines.Select(l => (l.Item, l.Quantity, l.Start, l.End)).ToList(), baseUrl);
        foreach (var line in lines)
            foreach (var usage in line.Usage)
                usage.BilledBy = invoice.Id;
        tx.Emit("invoice.finalized", invoice);

        var customer = tx.Get<Customer>(subscription.Customer, "customer");
        var paid = !forceFailure && TestCards.Charges(customer.Card);
        RecordAttempt(invoice, paid, tx.Now);
        tx.Emit(paid ? "invoice.paid" : "invoice.payment_failed", invoice);
        if (!paid && subscription.Status == "active")
        {
            subscription.Status = "past_due";
            tx.Emit("customer.subscription.updated", subscription, new JsonObject { ["status"] = "active" });
        }
        return invoice;
    }

    /// <summary>Meter events for this customer on this meter that no invoice has counted yet.</summary>
    private static List<MeterEvent> UnbilledUsage(EmulatorStore.Transaction tx, string customerId, Meter meter)
    {
        return tx.MeterEvents
            .Where(e => e.BilledBy is null && e.EventName == meter.EventName
                && e.Payload.GetValueOrDefault(meter.CustomerMapping.EventPayloadKey) == customerId)
            .ToList();
    }

    private static Subscription NewSubscription(EmulatorStore.Transaction tx, Customer customer,
        IReadOnlyList<(string Price, long? Quantity)> lineItems, string currency, Dictionary<string, string> metadata)
    {
        var id = Ids.New("sub");
        var items = lineItems.Select(line =>
        {
            var price = tx.Get<Price>(line.Price, "price");
            return tx.Add(new SubscriptionItem
            {
                Id = Ids.New("si"),
                Created = tx.Now,
                Price = price,
                Quantity = price.IsMetered ? null : line.Quantity ?? 1,
                Subscription = id,
                CurrentPeriodStart = tx.Now,
                CurrentPeriodEnd = EmulatorStore.PeriodEnd(tx.Now, price.Recurring!),
            });
        }).ToList();
        return tx.Add(new Subscription
        {
            Id = id,
            Created = tx.Now,
            Customer = customer.Id,
            Currency = currency,
            StartDate = tx.Now,
            BillingCycleAnchor = tx.Now,
            Items = new StripeList<SubscriptionItem>(items, $"/v1/subscription_items?subscription={id}", false),
            Metadata = new Dictionary<string, string>(metadata),
        });
    }

    private static List<(SubscriptionItem Item, long Quantity, long Start, long End)> LicensedLines(Subscription subscription) =>
        subscription.Items.Data.Where(i => !i.Price.IsMetered)
            .Select(i => (i, i.Quantity ?? 1, i.CurrentPeriodStart, i.CurrentPeriodEnd)).ToList();

    /// <summary>A finalized (open) invoice for these lines, with its hosted page and PDF served by the emulator.</summary>
    private static Invoice NewInvoice(EmulatorStore.Transaction tx, Subscription subscription, string reason,
        IReadOnlyList<(SubscriptionItem Item, long Quantity, long Start, long End)> lines, string baseUrl)
    {
        var id = Ids.New("in");
        var invoiceLines = lines.Select(l => new InvoiceLine
        {
            Id = Ids.New("il"),
            Created = tx.Now,
            Invoice = id,
            Amount = l.Item.Price.AmountFor(l.Quantity),
            Currency = subscription.Currency,
            Description = $"{l.Quantity} × {tx.Get<Product>(l.Item.Price.Product, "product").Name}",
            Quantity = l.Quantity,
            Period = new LinePeriod { Start = l.Start, End = l.End },
            Pricing = new LinePricing
            {
                PriceDetails = new LinePriceDetails { Price = l.Item.Price.Id, Product = l.Item.Price.Product },
                UnitAmountDecimal = l.Item.Price.UnitAmountDecimal ?? l.Item.Price.UnitAmount?.ToString(CultureInfo.InvariantCulture),
            },
            Parent = new LineParent
            {
                SubscriptionItemDetails = new LineSubscriptionItemDetails { Subscription = subscription.Id, SubscriptionItem = l.Item.Id },
            },
        }).ToList();
        var total = invoiceLines.Sum(l => l.Amount);
        var invoice = tx.Add(new Invoice
        {
            Id = id,
            Created = tx.Now,
            Customer = subscription.Customer,
            Currency = subscription.Currency,
            Number = tx.NextInvoiceNumber(),
            Status = "open",
            AmountDue = total,
            AmountRemaining = total,
            Subtotal = total,
            Total = total,
            BillingReason = reason,
            PeriodStart = lines.Count == 0 ? tx.Now : lines.Min(l => l.Start),
            PeriodEnd = lines.Count == 0 ? tx.Now : lines.Max(l => l.End),
            HostedInvoiceUrl = $"{baseUrl}/invoices/{id}",
            InvoicePdf = $"{baseUrl}/invoices/{id}/pdf",
            Parent = new InvoiceParent { SubscriptionDetails = new InvoiceSubscriptionDetails { Subscription = subscription.Id } },
            Lines = new StripeList<InvoiceLine>(invoiceLines, $"/v1/invoices/{id}/lines", false),
        });
        invoice.StatusTransitions.FinalizedAt = tx.Now;
        subscription.LatestInvoice = invoice.Id;
        return invoice;
    }

    private static void RecordAttempt(Invoice invoice, bool paid, long now)
    {
        invoice.Attempted = true;
        invoice.AttemptCount++;
        if (!paid)
            return;
        invoice.Status = "paid";
        invoice.AmountPaid = invoice.AmountDue;
        invoice.AmountRemaining = 0;
        invoice.StatusTransitions.PaidAt = now;
    }
}
