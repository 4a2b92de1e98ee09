using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBlazor.StripeEmulator.Model;

namespace ChatBlazor.StripeEmulator.Protocol;

/// <summary>Stripe's JSON: snake_case names, nulls written out (Stripe sends them), errors as its error object.</summary>
public static class StripeJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
    };

    public static JsonObject ToNode(object value) =>
        JsonSerializer.SerializeToNode(value, value.GetType(), Options)!.AsObject();

    public static IResult Ok(JsonNode node) =>
        Results.Text(node.ToJsonString(), "application/json", statusCode: StatusCodes.Status200OK);

    public static JsonObject Error(StripeApiException error)
    {
        var body = new JsonObject { ["type"] = error.Type, ["message"] = error.Message };
        if (error.Code is not null)
            body["code"] = error.Code;
        if (error.Param is not null)
            body["param"] = error.Param;
        return new JsonObject { ["error"] = body };
    }

    /// <summary>
    /// Replaces ids by the objects they name along each <c>expand</c> path ("subscription", "data.customer",
    /// "subscription.latest_invoice"), as Stripe does; a path through a list goes through its <c>data</c>.
    /// </summary>
    public static JsonObject Expand(JsonObject node, IReadOnlyList<string> paths, Func<string, StripeObject?> find)
    {
        foreach (var path in paths)
            ExpandPath(node, path.Split('.'), find);
        return node;
    }

    private static void ExpandPath(JsonNode? node, ReadOnlySpan<string> parts, Func<string, StripeObject?> find)
    {
        if (node is not JsonObject obj || parts.Length == 0)
            return;
        var field = parts[0];
        if (obj[field] is JsonArray items && field == "data")
        {
            foreach (var item in items)
                ExpandPath(item, parts[1..], find);
            return;
        }
        if (obj[field] is JsonValue value && value.TryGetValue<string>(out var id))
        {
            var target = find(id) ?? throw StripeApiException.InvalidRequest($"This property cannot be expanded ({field}).", "expand");
            obj[field] = ToNode(target);
        }
        ExpandPath(obj[field], parts[1..], find);
    }
}
