namespace ChatBlazor.StripeEmulator.Model;

/// <summary>Stripe's test card numbers that change an outcome; every other number is a card that pays.</summary>
public static class TestCards
{
    /// <summary>Declined whenever it is used: at checkout, when saved in the portal, and for every charge.</summary>
    public const string Declined = "4000000000000002";

    /// <summary>Saves fine (portal "update card") but every charge on it fails: a renewal that fails.</summary>
    public const string ChargeFails = "4000000000000341";

    public const string Pays = "4242424242424242";

    public static string Normalize(string? number) => new((number ?? "").Where(char.IsDigit).ToArray());

    public static bool Charges(string? card) => card is { Length: > 0 } && card != Declined && card != ChargeFails;
}
