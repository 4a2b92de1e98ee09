using System.Text.Json.Nodes;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>Label matching as the API server does it.</summary>
internal static class Labels
{
    /// <summary>A map selector (a Service's): every pair is on the object. An empty map selects everything.</summary>
    public static bool Match(JsonObject selector, JsonObject? labels) =>
        selector.All(kv => (string?)labels?[kv.Key] == (string?)kv.Value);

    /// <summary>A LabelSelector (matchLabels and matchExpressions). An empty selector selects everything.</summary>
    public static bool Selects(JsonObject selector, JsonObject? labels)
    {
        if (selector["matchLabels"] is JsonObject matchLabels && !Match(matchLabels, labels))
            return false;
        foreach (var expression in selector["matchExpressions"]?.AsArray() ?? [])
        {
            var value = (string?)labels?[(string)expression!["key"]!];
            var values = expression!["values"]?.AsArray().Select(v => (string?)v).ToList() ?? [];
            var holds = (string?)expression["operator"] switch
            {
                "In" => value is not null && values.Contains(value),
                "NotIn" => value is null || !values.Contains(value),
                "Exists" => value is not null,
                "DoesNotExist" => value is null,
                var op => throw new InvalidOperationException($"unknown selector operator {op}"),
            };
            if (!holds)
                return false;
        }
        return true;
    }
}
