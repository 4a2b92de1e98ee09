using System.Security.Cryptography;

namespace ChatBlazor.StripeEmulator.Model;

/// <summary>Ids in Stripe's form: a type prefix and random letters and digits (cus_…, price_…, cs_test_…).</summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string New(string prefix, int length = 24) => $"{prefix}_{RandomNumberGenerator.GetString(Alphabet, length)}";
}
