using System.Text.Json;

namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>
/// A fixture's expected.json: ids and decodes produced by Hugging Face's tokenizers.js (see the fixtures'
/// README), not by the code under test.
/// </summary>
internal sealed record ReferenceExpectations(
    IReadOnlyList<ReferenceExpectations.EncodeCase> Encode,
    IReadOnlyList<ReferenceExpectations.DecodeCase> Decode)
{
    public sealed record EncodeCase(string Text, int[] Ids, string Decoded, string DecodedSkippingSpecial);

    public sealed record DecodeCase(int[] Ids, string Decoded, string DecodedSkippingSpecial);

    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    public static ReferenceExpectations Load(string fixture)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizers", fixture, "expected.json");
        return JsonSerializer.Deserialize<ReferenceExpectations>(File.ReadAllText(path), Options)!;
    }

    public IEnumerable<(int[] Ids, string Decoded, string DecodedSkippingSpecial)> AllDecodes() =>
        Encode.Select(c => (c.Ids, c.Decoded, c.DecodedSkippingSpecial))
            .Concat(Decode.Select(c => (c.Ids, c.Decoded, c.DecodedSkippingSpecial)));
}
