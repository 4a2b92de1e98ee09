using System.Text.Encodings.Web;
using System.Text.Json;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>Writes tokenizer.json files, for tests and for model folders with random weights.</summary>
public static class TokenizerJson
{
    // Llama 3's pre-tokenizer pattern, except that every digit stands alone (as in Qwen2's): a number is then its
    // digits, one token each, which is what lets a small model learn column arithmetic.
    internal const string SplitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Writes a byte-level BPE tokenizer.json: ids 0–255 are the byte tokens (id = byte value, spelled with
    /// GPT-2's byte-to-unicode characters), merge i adds the token Left+Right as id 256 + i, and the special
    /// tokens follow as added tokens (special: true). Pre-tokenizer: <see cref="SplitPattern"/>, then ByteLevel;
    /// decoder: ByteLevel.
    /// </summary>
    /// <param name="merges">Pairs of existing tokens, in byte-level spelling (a space is "Ġ"), in rank order.</param>
    public static void WriteByteLevel(
        string path,
        IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyList<string> specialTokens)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(specialTokens);

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var ordered = new List<string>();
        for (var b = 0; b < 256; b++)
        {
            var token = ByteLevelAlphabet.ByteToChar[b].ToString();
            vocab[token] = ordered.Count;
            ordered.Add(token);
        }
        for (var i = 0; i < merges.Count; i++)
        {
            var (left, right) = merges[i];
            if (!vocab.ContainsKey(left) || !vocab.ContainsKey(right))
                throw new ArgumentException($"merges[{i}] ('{left}', '{right}') uses a token that neither a byte nor an earlier merge made.", nameof(merges));
            // Each merge must add exactly one id, or the ids callers count on (256 + i) would shift.
            if (!vocab.TryAdd(left + right, ordered.Count))
                throw new ArgumentException($"merges[{i}] makes '{left + right}', which is already a token.", nameof(merges));
            ordered.Add(left + right);
        }
        var firstSpecialId = ordered.Count;
        for (var i = 0; i < specialTokens.Count; i++)
        {
            if (string.IsNullOrEmpty(specialTokens[i]) || vocab.ContainsKey(specialTokens[i]) || specialTokens.Take(i).Contains(specialTokens[i]))
                throw new ArgumentException($"specialTokens[{i}] '{specialTokens[i]}' is empty or not unique.", nameof(specialTokens));
        }

        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            // Keeps Ġ, Ċ and the like readable in the file; the JSON is equally valid either way.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");

        json.WriteStartArray("added_tokens");
        for (var i = 0; i < specialTokens.Count; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", firstSpecialId + i);
            json.WriteString("content", specialTokens[i]);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteNull("normalizer");

        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("pretokenizers");
        json.WriteStartObject();
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("Regex", SplitPattern);
        json.WriteEndObject();
        json.WriteString("behavior", "Isolated");
        json.WriteBoolean("invert", false);
        json.WriteEndObject();
        json.WriteStartObject();
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", true);
        json.WriteBoolean("use_regex", false);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteNull("post_processor");

        json.WriteStartObject("decoder");
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", true);
        json.WriteBoolean("trim_offsets", true);
        json.WriteBoolean("use_regex", true);
        json.WriteEndObject();

        json.WriteStartObject("model");
        json.WriteString("type", "BPE");
        json.WriteNull("dropout");
        json.WriteNull("unk_token");
        json.WriteNull("continuing_subword_prefix");
        json.WriteNull("end_of_word_suffix");
        json.WriteBoolean("fuse_unk", false);
        json.WriteBoolean("byte_fallback", false);
        json.WriteBoolean("ignore_merges", false);
        json.WriteStartObject("vocab");
        for (var id = 0; id < ordered.Count; id++)
            json.WriteNumber(ordered[id], id);
        json.WriteEndObject();
        json.WriteStartArray("merges");
        foreach (var (left, right) in merges)
        {
            json.WriteStartArray();
            json.WriteStringValue(left);
            json.WriteStringValue(right);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteEndObject();
    }
}
