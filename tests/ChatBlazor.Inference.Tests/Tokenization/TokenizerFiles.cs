using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>Writes tokenizer.json text to a temporary folder and finds the committed reference fixtures.</summary>
internal static class TokenizerFiles
{
    public static string FixturePath(string name) =>
        Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizers", name, "tokenizer.json");

    public static Tokenizer LoadFixture(string name) => Tokenizer.Load(FixturePath(name));

    public static Tokenizer LoadJson(string json)
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "tokenizer.json");
        File.WriteAllText(path, json);
        return Tokenizer.Load(path);
    }

    /// <summary>Loads <paramref name="json"/> after an edit, so one fixture can show what a single field changes.</summary>
    public static Tokenizer LoadJson(string json, Action<JsonObject> edit) => LoadJson(Patch(json, edit));

    public static string Patch(string json, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        edit(root);
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public static JsonNode Node(string json) => JsonNode.Parse(json)!;
}

internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "chatblazor-tokenizer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
