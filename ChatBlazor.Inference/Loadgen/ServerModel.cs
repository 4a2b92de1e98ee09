using System.Text.Json;

namespace ChatBlazor.Inference.Loadgen;

/// <summary>What <c>GET /v1/models</c> says about the model under test; null fields where the server did not say.</summary>
internal sealed record ServerModel(string Id, int? MaxModelLen, int? VocabSize)
{
    /// <summary>
    /// The entry named <paramref name="model"/>, or the first. <c>max_model_len</c> is vLLM's field; <c>vocab_size</c>
    /// is read where a server adds it. Throws <see cref="HttpRequestException"/> or <see cref="JsonException"/>.
    /// </summary>
    public static async Task<ServerModel?> FetchAsync(HttpClient http, Uri baseUrl, string? model, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(baseUrl, "v1/models"), cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        if (!json.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            return null;
        static int? Int(JsonElement entry, string name) =>
            entry.TryGetProperty(name, out var v) && v.TryGetInt32(out var i) ? i : null;
        foreach (var entry in data.EnumerateArray())
        {
            var id = entry.TryGetProperty("id", out var v) ? v.GetString() : null;
            if (id is not null && (model is null || id == model))
                return new ServerModel(id, Int(entry, "max_model_len"), Int(entry, "vocab_size"));
        }
        return null;
    }
}
