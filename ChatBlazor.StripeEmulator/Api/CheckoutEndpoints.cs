using System.Text;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Pages;
using ChatBlazor.StripeEmulator.Protocol;

namespace ChatBlazor.StripeEmulator.Api;

/// <summary>Checkout sessions (mode subscription) and the pay page their <c>url</c> opens.</summary>
public static class CheckoutEndpoints
{
    public static void MapCheckout(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/checkout/sessions", CreateSession);
        v1.MapGet("/checkout/sessions/{id}", (HttpContext http, EmulatorStore store, string id) =>
            CatalogEndpoints.Retrieve<CheckoutSession>(http, store, id, "checkout.session"));
        v1.MapPost("/checkout/sessions/{id}/expire", ExpireSession);
    }

    public static void MapCheckoutPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/checkout/{id}", ShowPayPage);
        app.MapPost("/checkout/{id}", Pay);
    }

    private static async Task<IResult> CreateSession(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var mode = form.Required("mode");
        if (mode != "subscription")
            throw StripeApiException.InvalidParam("mode", "The emulator supports only mode=subscription.");
        var successUrl = form.Required("success_url");
        var customerId = form.String("customer");
        var customerEmail = form.String("customer_email");
        if (customerId is not null && customerEmail is not null)
            throw StripeApiException.InvalidRequest("You may only specify one of these parameters: customer, customer_email.", "customer_email");
        var indexes = form.Indexes("line_items");
        if (indexes.Count == 0)
            throw StripeApiException.MissingParam("line_items");

        return store.Run(tx =>
        {
            if (customerId is not null)
                tx.Get<Customer>(customerId, "customer");
            var lines = new List<(string Price, long? Quantity)>();
            long total = 0;
            string? currency = null;
            foreach (var i in indexes)
            {
                var price = tx.Get<Price>(form.Required($"line_items[{i}][price]"), "price");
                if (price.Recurring is null)
                    throw StripeApiException.InvalidParam($"line_items[{i}][price]", "You must provide at least one recurring price in `subscription` mode when using prices.");
                if (currency is not null && price.Currency != currency)
                    throw StripeApiException.InvalidParam($"line_items[{i}][price]", "All prices must share one currency.");
                currency = price.Currency;
                var quantity = form.Long($"line_items[{i}][quantity]");
                if (price.IsMetered && quantity is not null)
                    throw StripeApiException.InvalidParam($"line_items[{i}][quantity]", "Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[" + i + "]`");
                lines.Add((price.Id, quantity));
                if (!price.IsMetered)
                    total += price.AmountFor(quantity ?? 1);
            }

            var id = Ids.New("cs_test", 58);
            var session = tx.Add(new CheckoutSession
            {
                Id = id,
                Created = tx.Now,
                ExpiresAt = tx.Now + 24 * 3600,
                Mode = mode,
                ClientReferenceId = form.String("client_reference_id"),
                Customer = customerId,
                CustomerEmail = customerEmail,
                SuccessUrl = successUrl,
                CancelUrl = form.String("cancel_url"),
                Url = $"{Html.BaseUrl(http.Request)}/checkout/{id}",
                AmountTotal = total,
                Currency = currency!,
                Metadata = form.Map("metadata") ?? [],
                LineItems = lines,
            });
            return StripeJson.Ok(tx.Render(session, form.Expand));
        });
    }

    private static async Task<IResult> ExpireSession(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var session = tx.Get<CheckoutSession>(id, "checkout.session");
            if (session.Status != "open")
                throw StripeApiException.InvalidRequest($"Only Checkout Sessions with a status of `open` can be expired. This Checkout Session has a status of `{session.Status}`.");
            session.Status = "expired";
            session.Url = null;
            tx.Emit("checkout.session.expired", session);
            return StripeJson.Ok(tx.Render(session, form.Expand));
        });
    }

    private static IResult ShowPayPage(EmulatorStore store, string id) =>
        store.Run(tx => tx.Find(id) is CheckoutSession session ? PayPage(tx, session, error: null) : NotFound());

    private static async Task<IResult> Pay(HttpContext http, EmulatorStore store, string id)
    {
        var form = await http.Request.ReadFormAsync();
        var card = TestCards.Normalize(form["card"]);
        var baseUrl = Html.BaseUrl(http.Request);
        return store.Run(tx =>
        {
            if (tx.Find(id) is not CheckoutSession session)
                return NotFound();
            if (card.Length is < 12 or > 19)
                return PayPage(tx, session, "Your card number is incomplete.");
            return Billing.PayCheckout(tx, session, card, baseUrl) switch
            {
                Billing.PayOutcome.Declined => PayPage(tx, session, "Your card was declined."),
                _ => Results.Redirect(session.SuccessUrl.Replace("{CHECKOUT_SESSION_ID}", session.Id, StringComparison.Ordinal)),
            };
        });
    }

    private static IResult NotFound() =>
        Html.Page("Checkout session not found", "<p>This checkout link is not known to the emulator.</p>", StatusCodes.Status404NotFound);

    private static IResult PayPage(EmulatorStore.Transaction tx, CheckoutSession session, string? error)
    {
        if (session.Status != "open")
            return Html.Page("Checkout", $"<p data-testid=\"checkout-status\">This checkout session is {Html.E(session.Status)}.</p>" +
                $"<p><a href=\"{Html.E(session.SuccessUrl.Replace("{CHECKOUT_SESSION_ID}", session.Id, StringComparison.Ordinal))}\">Return</a></p>");

        var body = new StringBuilder();
        body.Append("<table><tr><th>Item</th><th>Price</th></tr>");
        foreach (var (priceId, quantity) in session.LineItems)
        {
            var price = tx.Get<Price>(priceId, "price");
            var product = tx.Get<Product>(price.Product, "product");
            var per = price.IsMetered ? "per unit, billed by usage" : $"per {price.Recurring!.Interval}";
            body.Append($"<tr><td>{Html.E(product.Name)}{(quantity is > 1 ? $" × {quantity}" : "")}</td><td>{Html.UnitPrice(price)} {Html.E(per)}</td></tr>");
        }
        body.Append($"</table><p>Due today: <strong data-testid=\"amount-total\">{Html.Money(session.AmountTotal, session.Currency)}</strong></p>");
        var email = session.CustomerEmail ?? (session.Customer is { } c ? tx.Get<Customer>(c, "customer").Email : null);
        if (email is not null)
            body.Append($"<p>Email: {Html.E(email)}</p>");
        if (error is not null)
            body.Append($"<p class=\"error\" role=\"alert\" data-testid=\"card-error\">{Html.E(error)}</p>");
        body.Append($"""
            <form method="post" action="/checkout/{Html.E(session.Id)}">
            <label>Card number <input name="card" inputmode="numeric" autocomplete="cc-number" value="{TestCards.Pays}" data-testid="card-number"></label>
            <button type="submit" data-testid="pay">Subscribe</button>
            </form>
            <p><small>Test cards: {TestCards.Pays} pays, {TestCards.Declined} is declined, {TestCards.ChargeFails} is declined at every charge (but can be saved in the portal).</small></p>
            """);
        if (session.CancelUrl is not null)
            body.Append($"<p><a href=\"{Html.E(session.CancelUrl)}\" data-testid=\"cancel\">Cancel and go back</a></p>");
        return Html.Page("Subscribe", body.ToString());
    }
}
