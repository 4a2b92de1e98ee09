using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Pages;
using ChatBlazor.StripeEmulator.Protocol;

namespace ChatBlazor.StripeEmulator.Api;

/// <summary>Subscriptions, invoices, billing meters and meter events (v1 and the v2 stream), portal sessions.</summary>
public static class BillingEndpoints
{
    public static void MapBilling(this IEndpointRouteBuilder v1)
    {
        v1.MapGet("/subscriptions", ListSubscriptions);
        v1.MapGet("/subscriptions/{id}", (HttpContext http, EmulatorStore store, string id) =>
            CatalogEndpoints.Retrieve<Subscription>(http, store, id, "subscription"));
        v1.MapPost("/subscriptions/{id}", UpdateSubscription);
        v1.MapDelete("/subscriptions/{id}", CancelSubscription);

        v1.MapGet("/invoices", ListInvoices);
        v1.MapGet("/invoices/{id}", (HttpContext http, EmulatorStore store, string id) =>
            CatalogEndpoints.Retrieve<Invoice>(http, store, id, "invoice"));
        v1.MapPost("/invoices/{id}/pay", PayInvoice);

        v1.MapPost("/billing/meters", CreateMeter);
        v1.MapGet("/billing/meters", ListMeters);
        v1.MapGet("/billing/meters/{id}", (HttpContext http, EmulatorStore store, string id) =>
            CatalogEndpoints.Retrieve<Meter>(http, store, id, "billing.meter"));
        v1.MapGet("/billing/meters/{id}/event_summaries", ListMeterEventSummaries);
        v1.MapPost("/billing/meter_events", CreateMeterEvent);

        v1.MapPost("/billing_portal/sessions", CreatePortalSession);
    }

    public static void MapMeterEventsV2(this IEndpointRouteBuilder v2)
    {
        v2.MapPost("/billing/meter_event_session", CreateMeterEventSession);
        v2.MapPost("/billing/meter_event_stream", StreamMeterEvents);
    }

    private static async Task<IResult> ListSubscriptions(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var customer = form.String("customer");
        var price = form.String("price");
        // Stripe lists every status except canceled unless asked ("all" includes them).
        var status = form.String("status");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<Subscription>().Where(s => (customer is null || s.Customer == customer)
                && (price is null || s.Items.Data.Any(i => i.Price.Id == price))
                && (status == "all" || (status is null ? s.Status != "canceled" : s.Status == status))),
            form, "/v1/subscriptions"), form.Expand)));
    }

    /// <summary>
    /// cancel_at_period_end, metadata, and changing an item's price (<c>items[0][id]</c> + <c>items[0][price]</c>).
    /// No proration: the new price applies from the next invoice.
    /// </summary>
    private static async Task<IResult> UpdateSubscription(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var subscription = tx.Get<Subscription>(id, "subscription");
            if (subscription.Status == "canceled")
                throw StripeApiException.InvalidRequest("A canceled subscription can only update its cancellation_details and metadata.");
            var previous = new JsonObject();
            if (form.Bool("cancel_at_period_end") is { } cancel && cancel != subscription.CancelAtPeriodEnd)
            {
                previous["cancel_at_period_end"] = subscription.CancelAtPeriodEnd;
                previous["cancel_at"] = subscription.CancelAt;
                previous["canceled_at"] = subscription.CanceledAt;
                SetCancelAtPeriodEnd(subscription, cancel, tx.Now);
            }
            foreach (var i in form.Indexes("items"))
            {
                var itemId = form.Required($"items[{i}][id]");
                var item = subscription.Items.Data.FirstOrDefault(x => x.Id == itemId)
                    ?? throw StripeApiException.NoSuch("subscription item", itemId);
                if (form.String($"items[{i}][price]") is { } priceId)
                {
                    previous["items"] ??= new JsonObject { ["data"] = ItemsSnapshot(subscription) };
                    item.Price = tx.Get<Price>(priceId, "price");
                }
                if (form.Long($"items[{i}][quantity]") is { } quantity)
                {
                    previous["items"] ??= new JsonObject { ["data"] = ItemsSnapshot(subscription) };
                    item.Quantity = quantity;
                }
            }
            if (form.Map("metadata") is { } metadata)
            {
                var before = new JsonObject();
                foreach (var (key, value) in subscription.Metadata)
                    before[key] = value;
                previous["metadata"] = before;
                CatalogEndpoints.MergeMetadata(subscription.Metadata, metadata);
            }
            tx.Emit("customer.subscription.updated", subscription, previous);
            return StripeJson.Ok(tx.Render(subscription, form.Expand));
        });
    }

    public static void SetCancelAtPeriodEnd(Subscription subscription, bool cancel, long now)
    {
        subscription.CancelAtPeriodEnd = cancel;
        subscription.CancelAt = cancel ? subscription.Items.Data.Max(i => i.CurrentPeriodEnd) : null;
        subscription.CanceledAt = cancel ? now : null;
    }

    public static JsonArray ItemsSnapshot(Subscription subscription) =>
        new(subscription.Items.Data.Select(i => (JsonNode)StripeJson.ToNode(i)).ToArray());

    private static async Task<IResult> CancelSubscription(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var subscription = tx.Get<Subscription>(id, "subscription");
            if (subscription.Status == "canceled")
                throw StripeApiException.InvalidRequest($"No such subscription: '{id}' is already canceled.", "id");
            var previous = subscription.Status;
            subscription.Status = "canceled";
            subscription.CanceledAt = tx.Now;
            subscription.EndedAt = tx.Now;
            tx.Emit("customer.subscription.deleted", subscription, new JsonObject { ["status"] = previous });
            return StripeJson.Ok(tx.Render(subscription, form.Expand));
        });
    }

    private static async Task<IResult> ListInvoices(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var customer = form.String("customer");
        var subscription = form.String("subscription");
        var status = form.String("status");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<Invoice>().Where(i => (customer is null || i.Customer == customer)
                && (subscription is null || i.Parent?.SubscriptionDetails.Subscription == subscription)
                && (status is null || i.Status == status)),
            form, "/v1/invoices"), form.Expand)));
    }

    private static async Task<IResult> PayInvoice(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var invoice = tx.Get<Invoice>(id, "invoice");
            if (!Billing.PayInvoice(tx, invoice))
                throw new StripeApiException(402, "card_error", "card_declined", "Your card was declined.");
            return StripeJson.Ok(tx.Render(invoice, form.Expand));
        });
    }

    private static async Task<IResult> CreateMeter(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx => StripeJson.Ok(tx.Render(AddMeter(tx, form, Ids.New("mtr_test", 28)), form.Expand)));
    }

    /// <summary>
    /// A new billing meter from create parameters. Stripe picks a meter's id; the catalog file gives a fixed one (an
    /// emulator-only convenience), the API a random one.
    /// </summary>
    internal static Meter AddMeter(EmulatorStore.Transaction tx, FormBody form, string id)
    {
        var eventName = form.Required("event_name");
        var formula = form.String("default_aggregation[formula]") ?? throw StripeApiException.MissingParam("default_aggregation[formula]");
        if (formula != "sum")
            throw StripeApiException.InvalidParam("default_aggregation[formula]", "The emulator supports only the sum formula.");
        if (tx.All<Meter>().Any(m => m.EventName == eventName && m.Status == "active"))
            throw StripeApiException.InvalidParam("event_name", $"An active meter with event_name '{eventName}' already exists.");
        if (tx.Find(id) is not null)
            throw new StripeApiException(400, "invalid_request_error", "resource_already_exists", "Meter already exists.", "id");
        return tx.Add(new Meter
        {
            Id = id,
            Created = tx.Now,
            Updated = tx.Now,
            DisplayName = form.Required("display_name"),
            EventName = eventName,
            DefaultAggregation = new MeterAggregation { Formula = formula },
            CustomerMapping = new MeterCustomerMapping
            {
                EventPayloadKey = form.String("customer_mapping[event_payload_key]") ?? "stripe_customer_id",
            },
            ValueSettings = new MeterValueSettings { EventPayloadKey = form.String("value_settings[event_payload_key]") ?? "value" },
        });
    }

    private static async Task<IResult> ListMeters(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var status = form.String("status");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<Meter>().Where(m => status is null || m.Status == status), form, "/v1/billing/meters"), form.Expand)));
    }

    /// <summary>
    /// What a meter counted for one customer in [<c>start_time</c>, <c>end_time</c>) (Unix seconds on minute
    /// boundaries, as Stripe asks), by the events' own timestamps and whether or not an invoice billed them yet: one
    /// <c>billing.meter_event_summary</c> for the whole range (Stripe's answer without <c>value_grouping_window</c>).
    /// </summary>
    private static async Task<IResult> ListMeterEventSummaries(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var customer = form.Required("customer");
        var start = form.Long("start_time") ?? throw StripeApiException.MissingParam("start_time");
        var end = form.Long("end_time") ?? throw StripeApiException.MissingParam("end_time");
        if (start % 60 != 0 || end % 60 != 0)
            throw StripeApiException.InvalidParam(start % 60 != 0 ? "start_time" : "end_time", "start_time and end_time must be aligned with minute boundaries.");
        if (end <= start)
            throw StripeApiException.InvalidParam("end_time", "end_time must be after start_time.");
        if (form.String("value_grouping_window") is { } window)
            throw StripeApiException.InvalidParam("value_grouping_window", $"The emulator sums the whole range only; value_grouping_window '{window}' is not supported.");
        return store.Run(tx =>
        {
            var meter = tx.Get<Meter>(id, "billing.meter");
            tx.Get<Customer>(customer, "customer");
            // Values were checked to be integers when the events were recorded.
            var sum = tx.MeterEvents
                .Where(e => e.EventName == meter.EventName && e.Timestamp >= start && e.Timestamp < end
                    && e.Payload.GetValueOrDefault(meter.CustomerMapping.EventPayloadKey) == customer)
                .Sum(e => long.Parse(e.Payload[meter.ValueSettings.EventPayloadKey], CultureInfo.InvariantCulture));
            var summary = new JsonObject
            {
                ["id"] = Ids.New("mtrusg_test", 28),
                ["object"] = "billing.meter_event_summary",
                ["aggregated_value"] = sum,
                ["end_time"] = end,
                ["livemode"] = false,
                ["meter"] = meter.Id,
                ["start_time"] = start,
            };
            return StripeJson.Ok(new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray(summary),
                ["has_more"] = false,
                ["url"] = $"/v1/billing/meters/{meter.Id}/event_summaries",
            });
        });
    }

    /// <summary>
    /// A meter event. Its identifier is unique (Stripe enforces it for at least 24 hours; the emulator, for its
    /// lifetime): a second event with a known identifier is refused with a 400 and is not counted again.
    /// </summary>
    private static async Task<IResult> CreateMeterEvent(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var eventName = form.Required("event_name");
        var payload = form.Map("payload") ?? throw StripeApiException.MissingParam("payload");
        var identifier = form.String("identifier") ?? Ids.New("mevt", 24);
        var timestamp = form.Long("timestamp");
        return store.Run(tx =>
        {
            var meterEvent = RecordMeterEvent(tx, eventName, identifier, payload, timestamp ?? tx.Now)
                ?? throw new StripeApiException(400, "invalid_request_error", "resource_already_exists",
                    $"An event with identifier '{identifier}' already exists.", "identifier");
            return StripeJson.Ok(StripeJson.ToNode(meterEvent));
        });
    }

    /// <summary>Validates and keeps one meter event; null when its identifier was seen before.</summary>
    private static MeterEvent? RecordMeterEvent(EmulatorStore.Transaction tx, string eventName, string identifier,
        Dictionary<string, string> payload, long timestamp)
    {
        if (tx.MeterEventsByIdentifier.ContainsKey(identifier))
            return null;
        var meter = tx.All<Meter>().FirstOrDefault(m => m.EventName == eventName && m.Status == "active")
            ?? throw StripeApiException.InvalidParam("event_name", $"No active meter was found for event_name '{eventName}'.");
        var customerKey = meter.CustomerMapping.EventPayloadKey;
        var customer = payload.GetValueOrDefault(customerKey) ?? throw StripeApiException.MissingParam($"payload[{customerKey}]");
        tx.Get<Customer>(customer, "customer");
        var valueKey = meter.ValueSettings.EventPayloadKey;
        var value = payload.GetValueOrDefault(valueKey) ?? throw StripeApiException.MissingParam($"payload[{valueKey}]");
        // Stripe accepts decimals; the emulator bills whole tokens, so it asks for integers and says so.
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw StripeApiException.InvalidParam($"payload[{valueKey}]", $"The emulator accepts integer meter values only, not '{value}'.");

        var meterEvent = new MeterEvent
        {
            Created = tx.Now,
            EventName = eventName,
            Identifier = identifier,
            Payload = payload,
            Timestamp = timestamp,
        };
        tx.MeterEvents.Add(meterEvent);
        tx.MeterEventsByIdentifier.Add(identifier, meterEvent);
        return meterEvent;
    }

    /// <summary>v2: a short-lived token that authenticates calls to the meter event stream.</summary>
    private static IResult CreateMeterEventSession(EmulatorStore store) => store.Run(tx =>
    {
        var token = Ids.New("ek_test", 40);
        tx.MeterSessionTokens.Add(token);
        var now = DateTimeOffset.FromUnixTimeSeconds(tx.Now);
        return StripeJson.Ok(new JsonObject
        {
            ["id"] = Ids.New("mes_test", 28),
            ["object"] = "v2.billing.meter_event_session",
            ["authentication_token"] = token,
            ["created"] = now.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["expires_at"] = now.AddMinutes(15).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["livemode"] = false,
        });
    });

    /// <summary>
    /// v2: a batch of meter events, JSON. Stripe processes these asynchronously and answers 200 <c>{}</c> (Stripe.net
    /// 53.1.0 throws on a 202); duplicates by identifier are dropped silently, as the stream cannot report them.
    /// </summary>
    private static async Task<IResult> StreamMeterEvents(HttpContext http, EmulatorStore store)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException)
        {
            throw StripeApiException.InvalidRequest("The request body is not valid JSON.");
        }
        if (body?["events"] is not JsonArray events)
            throw StripeApiException.MissingParam("events");
        store.Run(tx =>
        {
            foreach (var node in events)
            {
                if (node is not JsonObject evt)
                    throw StripeApiException.InvalidParam("events", "Each event must be an object.");
                var eventName = evt["event_name"]?.GetValue<string>() ?? throw StripeApiException.MissingParam("events[].event_name");
                var identifier = evt["identifier"]?.GetValue<string>() ?? Ids.New("mevt", 24);
                var payload = evt["payload"] is JsonObject p
                    ? p.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "")
                    : throw StripeApiException.MissingParam("events[].payload");
                var timestamp = evt["timestamp"]?.GetValue<string>() is { } text
                    ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).ToUnixTimeSeconds()
                    : tx.Now;
                RecordMeterEvent(tx, eventName, identifier, payload, timestamp);
            }
            return 0;
        });
        return StripeJson.Ok(new JsonObject());
    }

    private static async Task<IResult> CreatePortalSession(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var customerId = form.Required("customer");
        return store.Run(tx =>
        {
            tx.Get<Customer>(customerId, "customer");
            var id = Ids.New("bps");
            var session = tx.Add(new PortalSession
            {
                Id = id,
                Created = tx.Now,
                Customer = customerId,
                ReturnUrl = form.String("return_url"),
                Url = $"{Html.BaseUrl(http.Request)}/portal/{id}",
            });
            return StripeJson.Ok(tx.Render(session, form.Expand));
        });
    }
}
