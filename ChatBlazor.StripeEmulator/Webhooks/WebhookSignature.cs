using System.Security.Cryptography;
using System.Text;

namespace ChatBlazor.StripeEmulator.Webhooks;

/// <summary>
/// Stripe's <c>Stripe-Signature</c> header: <c>t={unix seconds},v1={hex HMAC-SHA256 of "{t}.{payload}"}</c>, keyed with
/// the endpoint secret's UTF-8 bytes (the whole "whsec_…" string), which is what Stripe.net's ConstructEvent checks.
/// </summary>
public static class WebhookSignature
{
    public static string Header(string payload, string secret, long timestamp)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }
}
