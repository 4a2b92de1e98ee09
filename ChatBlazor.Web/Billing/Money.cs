using System.Globalization;

namespace ChatBlazor.Web.Billing;

/// <summary>Amounts as Stripe gives them (the currency's smallest unit, e.g. cents) written for people.</summary>
public static class Money
{
    /// <summary>Stripe's zero-decimal currencies: their amounts are already whole units.</summary>
    private static readonly HashSet<string> ZeroDecimal = new(StringComparer.OrdinalIgnoreCase)
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    };

    /// <summary>An amount rounded to the currency's cents: "$20.00", "€3.10", "1,200 JPY".</summary>
    public static string Format(decimal minorUnits, string currency) => Write(Units(minorUnits, currency), currency, ZeroDecimal.Contains(currency) ? "N0" : "N2");

    /// <summary>A price per unit, which may be a fraction of a cent (a token price): "$0.000002".</summary>
    public static string UnitPrice(decimal minorUnits, string currency) => Write(Units(minorUnits, currency), currency, "0.00########");

    private static decimal Units(decimal minorUnits, string currency) => ZeroDecimal.Contains(currency) ? minorUnits : minorUnits / 100m;

    private static string Write(decimal units, string currency, string format)
    {
        var number = units.ToString(format, CultureInfo.InvariantCulture);
        return currency.ToLowerInvariant() switch
        {
            "usd" => "$" + number,
            "eur" => "€" + number,
            "gbp" => "£" + number,
            _ => $"{number} {currency.ToUpperInvariant()}",
        };
    }
}
