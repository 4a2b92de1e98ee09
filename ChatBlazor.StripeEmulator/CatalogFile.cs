using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatBlazor.StripeEmulator.Api;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Protocol;

namespace ChatBlazor.StripeEmulator;

/// <summary>
/// <c>Emulator:CatalogFile</c>: products, billing meters and prices created at start with fixed ids, so an app can be
/// configured with price ids that stay the same from one run to the next. An emulator-only convenience: Stripe picks
/// the ids of prices and meters itself. Each entry holds the parameters of the create call (snake_case, nested
/// objects for <c>recurring[…]</c>) plus its <c>id</c>, and goes through the same code as that call; seeded objects
/// emit no events, since no webhook endpoint listens before the emulator has started.
/// </summary>
public static partial class CatalogFile
{
    // Created in this order: prices name their product and meter.
    private static readonly (string Key, string Prefix)[] Sections = [("products", "prod_"), ("meters", "mtr_"), ("prices", "price_")];

    /// <summary>Creates what the file lists; any fault stops the start with a message naming the file and the entry.</summary>
    public static void Seed(EmulatorStore store, string path)
    {
        var root = Read(path);
        var unknown = root.Select(p => p.Key).Where(k => !Sections.Any(s => s.Key == k)).ToList();
        if (unknown.Count > 0)
            throw Fault(path, $"unknown section '{unknown[0]}' (the sections are products, meters and prices)");
        store.Run(tx =>
        {
            foreach (var (key, prefix) in Sections)
            {
                if (root[key] is null)
                    continue;
                if (root[key] is not JsonArray entries)
                    throw Fault(path, $"'{key}' must be an array of objects");
                for (var i = 0; i < entries.Count; i++)
                    AddEntry(tx, path, $"{key}[{i}]", prefix, entries[i]);
            }
            return 0;
        });
    }

    private static JsonObject Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Fault(path, $"cannot be read: {e.Message}");
        }
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw Fault(path, "must hold a JSON object with products, meters and prices");
        }
        catch (JsonException e)
        {
            throw Fault(path, $"is not valid JSON: {e.Message}");
        }
    }

    private static void AddEntry(EmulatorStore.Transaction tx, string path, string where, string prefix, JsonNode? entry)
    {
        if (entry is not JsonObject fields)
            throw Fault(path, $"{where} must be an object");
        var id = fields["id"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        if (id is null || !id.StartsWith(prefix, StringComparison.Ordinal) || !IdPattern().IsMatch(id))
            throw Fault(path, $"{where} needs an \"id\" such as {prefix}chatblazor (letters, digits and underscores after '{prefix}')");
        var parameters = new List<KeyValuePair<string, string>>();
        // The id goes along: a product takes it as a parameter (as in Stripe); a meter or price is given it below.
        foreach (var (name, node) in fields)
            Flatten(name, node, parameters);
        var form = FormBody.From(parameters);
        try
        {
            switch (prefix)
            {
                case "prod_": CatalogEndpoints.AddProduct(tx, form); break;
                case "mtr_": BillingEndpoints.AddMeter(tx, form, id); break;
                default: CatalogEndpoints.AddPrice(tx, form, id); break;
            }
        }
        catch (StripeApiException e)
        {
            throw Fault(path, $"{where} ({id}): {e.Message}");
        }
    }

    /// <summary>JSON to the flat keys a form-encoded request has: <c>recurring: {interval: month}</c> is <c>recurring[interval]=month</c>.</summary>
    private static void Flatten(string key, JsonNode? node, List<KeyValuePair<string, string>> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                    Flatten($"{key}[{name}]", child, into);
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                    Flatten($"{key}[{i}]", array[i], into);
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                into.Add(new(key, value.GetValue<string>()));
                break;
            case JsonValue value:
                // Numbers and booleans as written: 2000, true.
                into.Add(new(key, value.ToJsonString()));
                break;
            default:
                into.Add(new(key, ""));
                break;
        }
    }

    private static InvalidDataException Fault(string path, string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"Emulator:CatalogFile {Path.GetFullPath(path)}: {message.TrimEnd('.')}."));

    [GeneratedRegex("^[a-z]+_[A-Za-z0-9_]+$")]
    private static partial Regex IdPattern();
}
