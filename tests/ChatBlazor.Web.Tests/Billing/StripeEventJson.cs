using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// Stripe events as Stripe sends them (the fields billing reads, with Stripe.net's API version), and their signature
/// header written from Stripe's documented scheme: <c>t=&lt;unix time&gt;,v1=&lt;hex HMAC-SHA256 of "t.payload"&gt;</c>.
/// </summary>
internal static class StripeEventJson
{
    public static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}";

    public static string Event(string type, JsonObject dataObject, DateTimeOffset created, string? id = null) => new JsonObject
    {
        ["id"] = id ?? NewId("evt"),
        ["object"] = "event",
        ["api_version"] = Stripe.StripeConfiguration.ApiVersion,
        ["created"] = created.ToUnixTimeSeconds(),
        ["livemode"] = false,
        ["pending_webhooks"] = 1,
        ["type"] = type,
        ["data"] = new JsonObject { ["object"] = dataObject },
    }.ToJsonString();

    public static JsonObject Checkout(string userId, string customerId, string subscriptionId, string mode = "subscription") => new()
    {
        ["id"] = NewId("cs"), ["object"] = "checkout.session", ["mode"] = mode, ["status"] = "complete",
        ["client_reference_id"] = userId, ["customer"] = customerId, ["subscription"] = subscriptionId,
    };

    public static JsonObject Subscription(string id, string customerId, string status, string priceId, DateTimeOffset periodStart, bool cancelAtPeriodEnd = false) => new()
    {
        ["id"] = id, ["object"] = "subscription", ["customer"] = customerId, ["status"] = status, ["cancel_at_period_end"] = cancelAtPeriodEnd,
        ["items"] = new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject
            {
                ["id"] = NewId("si"), ["object"] = "subscription_item",
                ["current_period_start"] = periodStart.ToUnixTimeSeconds(), ["current_period_end"] = periodStart.AddMonths(1).ToUnixTimeSeconds(),
                ["price"] = new JsonObject { ["id"] = priceId, ["object"] = "price" },
            }),
        },
    };

    public static JsonObject Invoice(string id, string customerId, string subscriptionId, string status, long amount, DateTimeOffset created) => new()
    {
        ["id"] = id, ["object"] = "invoice", ["customer"] = customerId, ["status"] = status, ["currency"] = "usd",
        ["amount_due"] = amount, ["amount_paid"] = status == "paid" ? amount : 0, ["total"] = amount,
        ["hosted_invoice_url"] = $"https://invoice.stripe.test/{id}", ["invoice_pdf"] = $"https://invoice.stripe.test/{id}.pdf",
        ["period_start"] = created.AddMonths(-1).ToUnixTimeSeconds(), ["period_end"] = created.ToUnixTimeSeconds(), ["created"] = created.ToUnixTimeSeconds(),
        ["parent"] = new JsonObject
        {
            ["type"] = "subscription_details",
            ["subscription_details"] = new JsonObject { ["subscription"] = subscriptionId },
        },
    };

    public static string Signature(string payload, string secret, DateTimeOffset signedAt)
    {
        var timestamp = signedAt.ToUnixTimeSeconds();
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }
}
