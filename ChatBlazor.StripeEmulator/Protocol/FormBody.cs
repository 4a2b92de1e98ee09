using System.Globalization;

namespace ChatBlazor.StripeEmulator.Protocol;

/// <summary>
/// The parameters of one v1 request, as Stripe.net sends them: form-encoded for POST, the query string otherwise, with
/// nesting spelled in the key (<c>line_items[0][price]</c>, <c>metadata[plan]</c>, <c>expand[0]</c> or <c>expand[]</c>).
/// Kept flat on purpose: a handler asks for the key it knows, which is simpler than a tree for the few shapes we read.
/// </summary>
public sealed class FormBody
{
    private readonly Dictionary<string, string> _values;

    private FormBody(Dictionary<string, string> values) => _values = values;

    public static async Task<FormBody> ReadAsync(HttpRequest request)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
            Add(values, key, value.ToString());
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            foreach (var (key, value) in form)
                Add(values, key, value.ToString());
        }
        return new FormBody(values);
    }

    /// <summary>Parameters given as flat keys (<c>recurring[interval]</c>), as a request would send them.</summary>
    public static FormBody From(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
            Add(values, key, value);
        return new FormBody(values);
    }

    // "expand[]" may repeat; give each its own index so List() sees them all, in order.
    private static void Add(Dictionary<string, string> values, string key, string value)
    {
        if (key.EndsWith("[]", StringComparison.Ordinal))
        {
            var stem = key[..^2];
            var next = values.Keys.Count(k => k.StartsWith(stem + "[", StringComparison.Ordinal));
            values[$"{stem}[{next}]"] = value;
            return;
        }
        values[key] = value;
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public string? String(string key) => _values.TryGetValue(key, out var value) ? value : null;

    public string Required(string key) =>
        String(key) is { Length: > 0 } value ? value : throw StripeApiException.MissingParam(key);

    public long? Long(string key)
    {
        if (String(key) is not { } text)
            return null;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw StripeApiException.InvalidParam(key, $"Invalid integer: {text}");
    }

    public bool? Bool(string key) => String(key) switch
    {
        null => null,
        "true" => true,
        "false" => false,
        var text => throw StripeApiException.InvalidParam(key, $"Invalid boolean: {text}"),
    };

    /// <summary>The values of <c>key[0]</c>, <c>key[1]</c>, … (or <c>key[]</c>), in index order.</summary>
    public IReadOnlyList<string> List(string key) =>
        Indexes(key).Select(i => _values[$"{key}[{i}]"]).ToList();

    /// <summary>The indexes n that appear as <c>key[n]…</c>, for lists of objects such as <c>line_items[n][price]</c>.</summary>
    public IReadOnlyList<int> Indexes(string key)
    {
        var prefix = key + "[";
        var indexes = new SortedSet<int>();
        foreach (var name in _values.Keys)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var close = name.IndexOf(']', prefix.Length);
            if (close > prefix.Length && int.TryParse(name.AsSpan(prefix.Length, close - prefix.Length), NumberStyles.None,
                    CultureInfo.InvariantCulture, out var index))
                indexes.Add(index);
        }
        return indexes.ToList();
    }

    /// <summary>A one-level map such as <c>metadata[plan]=pro</c>; null when the request does not mention it.</summary>
    public Dictionary<string, string>? Map(string key)
    {
        var prefix = key + "[";
        Dictionary<string, string>? map = null;
        foreach (var (name, value) in _values)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(']'))
                continue;
            map ??= new Dictionary<string, string>(StringComparer.Ordinal);
            map[name[prefix.Length..^1]] = value;
        }
        // "metadata=" (empty) is how Stripe clears a map.
        if (map is null && _values.TryGetValue(key, out var empty) && empty.Length == 0)
            return new Dictionary<string, string>(StringComparer.Ordinal);
        return map;
    }

    public IReadOnlyList<string> Expand => List("expand");
}
