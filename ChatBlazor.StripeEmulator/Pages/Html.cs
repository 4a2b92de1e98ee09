using System.Net;

namespace ChatBlazor.StripeEmulator.Pages;

/// <summary>
/// The emulator's pages are plain HTML forms (no scripts), written as strings: a handful of small pages do not need a
/// view engine, and a browser test or an HttpClient can drive them the same way. Every value shown is encoded.
/// </summary>
public static class Html
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static IResult Page(string title, string body, int status = StatusCodes.Status200OK) =>
        Results.Text($$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>{{E(title)}} · Stripe emulator</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1a1f36; }
            .banner { background: #fff4e5; border: 1px solid #f5a623; padding: .5rem 1rem; border-radius: 4px; font-size: .9rem; }
            .error { color: #b3093c; font-weight: 600; }
            table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e3e8ee; }
            form { margin: 1rem 0; } input, select, button { font-size: 1rem; padding: .35rem .5rem; }
            </style>
            </head>
            <body>
            <p class="banner">Test mode: this is ChatBlazor's Stripe emulator, not Stripe. No real payment is made.</p>
            <h1>{{E(title)}}</h1>
            {{body}}
            </body>
            </html>
            """, "text/html; charset=utf-8", statusCode: status);

    public static string Money(long? cents, string currency) => E(Model.EmulatorStore.Amount(cents ?? 0, currency));

    /// <summary>A price's unit amount, exactly: a per-token price of 0.0002 ¢ reads 0.000002 USD, not 0.00.</summary>
    public static string UnitPrice(Model.Price price) => price.UnitAmount is { } cents
        ? Money(cents, price.Currency)
        : E(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{decimal.Parse(price.UnitAmountDecimal ?? "0", System.Globalization.CultureInfo.InvariantCulture) / 100m:0.00##########} {price.Currency.ToUpperInvariant()}"));

    public static string Date(long unixSeconds) =>
        E(DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));

    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}";
}
