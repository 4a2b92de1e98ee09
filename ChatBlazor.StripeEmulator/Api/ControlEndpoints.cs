using System.Text.Json.Nodes;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Protocol;
using ChatBlazor.StripeEmulator.Webhooks;

namespace ChatBlazor.StripeEmulator.Api;

/// <summary>
/// /_emulator: switches and controls that Stripe does not have, for tests and for a developer at the pages. Not behind
/// the secret key: the emulator listens on loopback only, and these change nothing a client could not (in test mode).
/// </summary>
public static class ControlEndpoints
{
    public sealed record WebhookSettingsBody(string? Url, string? Secret, bool? Duplicate, bool? Reorder);

    public static void MapControl(this IEndpointRouteBuilder app)
    {
        var control = app.MapGroup("/_emulator");
        control.MapGet("/webhooks", (WebhookDispatcher webhooks) => TypedResults.Ok(Show(webhooks.Settings)));
        control.MapPost("/webhooks", (WebhookSettingsBody body, WebhookDispatcher webhooks) =>
        {
            var current = webhooks.Settings;
            var next = new WebhookSettings(body.Url ?? current.Url, body.Secret ?? current.Secret,
                body.Duplicate ?? current.Duplicate, body.Reorder ?? current.Reorder);
            webhooks.Settings = next;
            return TypedResults.Ok(Show(next));
        });
        control.MapPost("/subscriptions/{id}/close_period", ClosePeriod);
    }

    // The secret is never echoed back.
    private static object Show(WebhookSettings settings) =>
        new { url = settings.Url, has_secret = settings.Secret is not null, duplicate = settings.Duplicate, reorder = settings.Reorder };

    /// <summary>Ends the subscription's period now (see <see cref="Billing.ClosePeriod"/>); <c>fail=true</c> makes the charge fail.</summary>
    private static async Task<IResult> ClosePeriod(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var fail = form.Bool("fail") ?? false;
        var baseUrl = Pages.Html.BaseUrl(http.Request);
        try
        {
            return store.Run(tx =>
            {
                var subscription = tx.Get<Subscription>(id, "subscription");
                var invoice = Billing.ClosePeriod(tx, subscription, fail, baseUrl);
                return StripeJson.Ok(new JsonObject
                {
                    ["subscription"] = tx.Render(subscription, []),
                    ["invoice"] = invoice is null ? null : tx.Render(invoice, []),
                });
            });
        }
        catch (StripeApiException e)
        {
            return Results.Text(StripeJson.Error(e).ToJsonString(), "application/json", statusCode: e.Status);
        }
    }
}
