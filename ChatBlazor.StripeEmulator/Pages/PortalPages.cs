using System.Text;
using System.Text.Json.Nodes;
using ChatBlazor.StripeEmulator.Api;
using ChatBlazor.StripeEmulator.Model;

namespace ChatBlazor.StripeEmulator.Pages;

/// <summary>
/// The customer portal a billing_portal.session's url opens: change plan, cancel at period end (or undo it), update
/// the card, see invoices; plus the emulator's own "close the period" button. Each change emits the events Stripe would.
/// </summary>
public static class PortalPages
{
    public static void MapPortalPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/portal/{id}", (EmulatorStore store, string id) => store.Run(tx => Show(tx, id, message: null)));
        app.MapPost("/portal/{id}/plan", ChangePlan);
        app.MapPost("/portal/{id}/cancel", SetCancel);
        app.MapPost("/portal/{id}/card", UpdateCard);
        app.MapPost("/portal/{id}/close", ClosePeriod);
    }

    private static async Task<IResult> ChangePlan(HttpContext http, EmulatorStore store, string id)
    {
        var form = await http.Request.ReadFormAsync();
        return store.Run(tx => WithSubscription(tx, id, form["subscription"].ToString(), subscription =>
        {
            var price = tx.Find(form["price"].ToString()) as Price;
            var item = subscription.Items.Data.FirstOrDefault(i => !i.Price.IsMetered);
            if (price is null || item is null || price.IsMetered)
                return "Choose one of the plans shown.";
            if (item.Price.Id == price.Id)
                return "That is already the plan.";
            var previous = new JsonObject { ["items"] = new JsonObject { ["data"] = BillingEndpoints.ItemsSnapshot(subscription) } };
            item.Price = price;
            tx.Emit("customer.subscription.updated", subscription, previous);
            return "Plan changed. The new price applies from the next invoice.";
        }));
    }

    private static async Task<IResult> SetCancel(HttpContext http, EmulatorStore store, string id)
    {
        var form = await http.Request.ReadFormAsync();
        var cancel = form["cancel"].ToString() == "true";
        return store.Run(tx => WithSubscription(tx, id, form["subscription"].ToString(), subscription =>
        {
            if (subscription.CancelAtPeriodEnd == cancel)
                return null;
            var previous = new JsonObject
            {
                ["cancel_at_period_end"] = subscription.CancelAtPeriodEnd,
                ["cancel_at"] = subscription.CancelAt,
                ["canceled_at"] = subscription.CanceledAt,
            };
            BillingEndpoints.SetCancelAtPeriodEnd(subscription, cancel, tx.Now);
            tx.Emit("customer.subscription.updated", subscription, previous);
            return cancel ? "The subscription ends at the end of the period." : "The subscription renews again.";
        }));
    }

    private static async Task<IResult> UpdateCard(HttpContext http, EmulatorStore store, string id)
    {
        var form = await http.Request.ReadFormAsync();
        var card = TestCards.Normalize(form["card"]);
        return store.Run(tx =>
        {
            if (tx.Find(id) is not PortalSession session)
                return NotFound();
            if (card.Length is < 12 or > 19)
                return Show(tx, id, "Your card number is incomplete.");
            if (card == TestCards.Declined)
                return Show(tx, id, "Your card was declined.");
            tx.Get<Customer>(session.Customer, "customer").Card = card;
            return Show(tx, id, "Card updated.");
        });
    }

    private static async Task<IResult> ClosePeriod(HttpContext http, EmulatorStore store, string id)
    {
        var form = await http.Request.ReadFormAsync();
        var baseUrl = Html.BaseUrl(http.Request);
        return store.Run(tx => WithSubscription(tx, id, form["subscription"].ToString(), subscription =>
        {
            if (subscription.Status is not ("active" or "past_due"))
                return $"The subscription is {subscription.Status}; there is no period to close.";
            var invoice = Billing.ClosePeriod(tx, subscription, forceFailure: false, baseUrl);
            return invoice is null ? "Period closed; nothing to invoice." : $"Period closed: invoice {invoice.Number} is {invoice.Status}.";
        }));
    }

    /// <summary>Runs a change on one of the session customer's subscriptions, then shows the portal with its message.</summary>
    private static IResult WithSubscription(EmulatorStore.Transaction tx, string sessionId, string subscriptionId, Func<Subscription, string?> change)
    {
        if (tx.Find(sessionId) is not PortalSession session)
            return NotFound();
        if (tx.Find(subscriptionId) is not Subscription subscription || subscription.Customer != session.Customer)
            return Show(tx, sessionId, "No such subscription for this customer.");
        return Show(tx, sessionId, change(subscription));
    }

    private static IResult NotFound() =>
        Html.Page("Portal session not found", "<p>This portal link is not known to the emulator.</p>", StatusCodes.Status404NotFound);

    private static IResult Show(EmulatorStore.Transaction tx, string sessionId, string? message)
    {
        if (tx.Find(sessionId) is not PortalSession session)
            return NotFound();
        var customer = tx.Get<Customer>(session.Customer, "customer");
        var plans = tx.All<Price>().Where(p => p.Active && p.Recurring is not null && !p.IsMetered).Reverse().ToList();
        var body = new StringBuilder();
        body.Append($"<p>Customer: {Html.E(customer.Email ?? customer.Id)}</p>");
        if (message is not null)
            body.Append($"<p role=\"status\" data-testid=\"portal-message\">{Html.E(message)}</p>");

        foreach (var subscription in tx.All<Subscription>().Where(s => s.Customer == customer.Id && s.Status != "canceled"))
        {
            var item = subscription.Items.Data.FirstOrDefault(i => !i.Price.IsMetered) ?? subscription.Items.Data[0];
            var product = tx.Get<Product>(item.Price.Product, "product");
            var sub = Html.E(subscription.Id);
            body.Append($"""
                <section data-testid="subscription">
                <h2>{Html.E(product.Name)} · {Html.UnitPrice(item.Price)} per {Html.E(item.Price.Recurring!.Interval)}</h2>
                <p>Status: <strong data-testid="subscription-status">{Html.E(subscription.Status)}</strong>.
                Current period {Html.Date(item.CurrentPeriodStart)} to {Html.Date(item.CurrentPeriodEnd)}.
                {(subscription.CancelAtPeriodEnd ? "<strong>Ends at the end of this period.</strong>" : "Renews at the end of this period.")}</p>
                <form method="post" action="/portal/{Html.E(session.Id)}/plan"><input type="hidden" name="subscription" value="{sub}">
                <label>Plan <select name="price" data-testid="plan-select">
                """);
            foreach (var plan in plans)
            {
                var planProduct = tx.Get<Product>(plan.Product, "product");
                body.Append($"<option value=\"{Html.E(plan.Id)}\"{(plan.Id == item.Price.Id ? " selected" : "")}>{Html.E(planProduct.Name)} · {Html.UnitPrice(plan)} per {Html.E(plan.Recurring!.Interval)}</option>");
            }
            body.Append($"""
                </select></label> <button type="submit" data-testid="change-plan">Change plan</button></form>
                <form method="post" action="/portal/{Html.E(session.Id)}/cancel"><input type="hidden" name="subscription" value="{sub}">
                <input type="hidden" name="cancel" value="{(subscription.CancelAtPeriodEnd ? "false" : "true")}">
                <button type="submit" data-testid="{(subscription.CancelAtPeriodEnd ? "renew" : "cancel")}">{(subscription.CancelAtPeriodEnd ? "Don't cancel" : "Cancel at period end")}</button></form>
                <form method="post" action="/portal/{Html.E(session.Id)}/close"><input type="hidden" name="subscription" value="{sub}">
                <button type="submit" data-testid="close-period">Close the period now (emulator control)</button></form>
                </section>
                """);
        }

        body.Append($"""
            <h2>Card</h2>
            <form method="post" action="/portal/{Html.E(session.Id)}/card">
            <label>Card number <input name="card" inputmode="numeric" data-testid="card-number"></label>
            <button type="submit" data-testid="update-card">Update card</button>
            </form>
            <h2>Invoices</h2><table><tr><th>Number</th><th>Status</th><th>Amount</th></tr>
            """);
        foreach (var invoice in tx.All<Invoice>().Where(i => i.Customer == customer.Id))
            body.Append($"<tr><td><a href=\"/invoices/{Html.E(invoice.Id)}\">{Html.E(invoice.Number)}</a></td><td>{Html.E(invoice.Status)}</td><td>{Html.Money(invoice.Total, invoice.Currency)}</td></tr>");
        body.Append("</table>");
        if (session.ReturnUrl is not null)
            body.Append($"<p><a href=\"{Html.E(session.ReturnUrl)}\" data-testid=\"return\">Return to the app</a></p>");
        return Html.Page("Billing portal", body.ToString());
    }
}
