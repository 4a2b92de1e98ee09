// Where Microsoft.ML.Tokenizers 2.0.1 fits, and where it does not.
//
// Its BpeTokenizer (built from vocab + merges + a RegexPreTokenizer carrying the file's pattern, ByteLevel on)
// reproduces byte-level BPE ids for GPT-2-style files, and the tests use it that way, as an independent
// reference for this code's byte-level path. It is not the engine here because, given only what a
// tokenizer.json says, it cannot be made to match Hugging Face on the models we load:
//   - no byte_fallback: Llama-2 / Mistral files (<0x0A> byte tokens) cannot be expressed at all, and its
//     SentencePiece tokenizer wants the .model protobuf, which these folders need not have;
//   - no ignore_merges, which Llama 3 sets (a word in the vocabulary is one token even where merges differ);
//   - added tokens are plain special tokens: no lstrip / rstrip / single_word / normalized;
//   - no normalizers or pre-tokenizers of the kinds these files use (Prepend, Replace, Metaspace with its
//     "first" scheme, Split behaviours, Digits), and its regex pre-tokenizer sees UTF-16 code units, so
//     letters outside the BMP split differently;
//   - no streaming decoder, and no ByteFallback / Strip / Metaspace decoder semantics.
// So this folder ports the Rust library's behaviour itself (one BPE implementation for both families), and the
// tests check it against Hugging Face's JavaScript port and, for byte-level BPE, against ML.Tokenizers.

namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// A Hugging Face tokenizer.json BPE tokenizer: byte-level (GPT-2, Llama 3, Qwen2, SmolLM) or
/// SentencePiece-style with byte fallback (Llama 2, Mistral). Encode and Decode give the ids and text that the
/// Rust tokenizers library gives for encode(text, add_special_tokens=False) and decode. Thread-safe.
/// </summary>
public sealed class Tokenizer
{
    private readonly BpeModel _model;
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly AddedTokenMatcher _rawAddedTokens;
    private readonly AddedTokenMatcher _normalizedAddedTokens;
    private readonly DecoderPlan _decoder;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly string?[] _idToToken;
    private readonly bool[] _isSpecial;

    private Tokenizer(TokenizerParts parts)
    {
        _model = parts.Model;
        _normalizer = parts.Normalizer;
        _preTokenizer = parts.PreTokenizer;
        _decoder = parts.Decoder;

        var vocabSize = 0;
        foreach (var id in parts.Vocab.Values)
            vocabSize = Math.Max(vocabSize, id + 1);
        foreach (var token in parts.AddedTokens)
            vocabSize = Math.Max(vocabSize, token.Id + 1);
        VocabSize = vocabSize;

        _idToToken = new string?[vocabSize];
        _isSpecial = new bool[vocabSize];
        _tokenToId = new Dictionary<string, int>(parts.Vocab, StringComparer.Ordinal);
        foreach (var (token, id) in parts.Vocab)
            _idToToken[id] = token;
        // Added tokens win over the model's vocabulary in both directions, as in the Rust AddedVocabulary.
        foreach (var token in parts.AddedTokens)
        {
            _idToToken[token.Id] = token.Content;
            _tokenToId[token.Content] = token.Id;
        }
        // Hugging Face decides "special" by a token's text, not its id: a vocabulary entry spelled like a
        // special added token (GPT-2's <|endoftext|> is both) is skipped too.
        var specialContents = parts.AddedTokens.Where(t => t.Special).Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        for (var id = 0; id < vocabSize; id++)
            _isSpecial[id] = _idToToken[id] is { } text && specialContents.Contains(text);

        // Non-normalized added tokens (all special tokens in real files) are found in the raw text; the
        // others in the normalized text, spelled as the normalizer would spell them.
        _rawAddedTokens = new AddedTokenMatcher(parts.AddedTokens
            .Where(t => !t.Normalized)
            .Select(t => (t.Content, t)));
        _normalizedAddedTokens = new AddedTokenMatcher(parts.AddedTokens
            .Where(t => t.Normalized)
            .Select(t => (_normalizer?.Normalize(t.Content) ?? t.Content, t)));
    }

    /// <summary>Highest token id + 1, added tokens included.</summary>
    public int VocabSize { get; }

    /// <summary>
    /// Reads a Hugging Face tokenizer.json. Throws <see cref="InvalidDataException"/> naming the JSON field
    /// when the file is malformed or uses something this tokenizer does not implement.
    /// </summary>
    public static Tokenizer Load(string tokenizerJsonPath) => new(TokenizerJsonReader.Read(tokenizerJsonPath));

    /// <summary>
    /// Token ids for <paramref name="text"/>. Added and special tokens written literally ("&lt;|im_start|&gt;")
    /// become their ids; no BOS or EOS is added (the chat template writes those).
    /// </summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // A Rust string cannot hold a lone surrogate; UTF-8 encoding would turn one into U+FFFD anyway, and
        // the Unicode normalizers throw on them, so they become U+FFFD up front.
        text = ReplaceLoneSurrogates(text);

        var ids = new List<int>(text.Length / 3 + 4);
        var segments = new List<Segment>();
        _rawAddedTokens.Split(text, segments);
        var subSegments = new List<Segment>();
        foreach (var segment in segments)
        {
            if (segment.IsToken)
            {
                ids.Add(segment.TokenId);
                continue;
            }
            if (segment.Start == segment.End)
                continue;

            var normalized = text[segment.Start..segment.End];
            if (_normalizer is not null)
                normalized = _normalizer.Normalize(normalized);
            var atStart = segment.Start == 0;
            if (_normalizedAddedTokens.IsEmpty)
            {
                EncodePlainText(normalized, atStart, ids);
                continue;
            }

            subSegments.Clear();
            _normalizedAddedTokens.Split(normalized, subSegments);
            foreach (var sub in subSegments)
            {
                if (sub.IsToken)
                    ids.Add(sub.TokenId);
                else if (sub.Start < sub.End)
                    EncodePlainText(normalized[sub.Start..sub.End], atStart && sub.Start == 0, ids);
            }
        }
        return ids;
    }

    /// <summary>
    /// Text for <paramref name="ids"/>, as Hugging Face's decode gives it. Ids that name no token are skipped
    /// (a model's embedding matrix is often padded past the tokenizer's vocabulary).
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var decoder = NewStreamingDecoder(skipSpecialTokens);
        var text = new System.Text.StringBuilder();
        foreach (var id in ids)
            text.Append(decoder.Push(id));
        text.Append(decoder.Flush());
        return text.ToString();
    }

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>
    /// Whether <paramref name="id"/> is an added token marked "special", or a vocabulary entry spelled like one
    /// (Hugging Face decides by text); these are what skipSpecialTokens skips.
    /// </summary>
    public bool IsSpecial(int id) => id >= 0 && id < _isSpecial.Length && _isSpecial[id];

    /// <summary>A decoder for one stream of generated ids; see <see cref="StreamingDecoder"/>.</summary>
    public StreamingDecoder NewStreamingDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    internal DecodeStage BuildDecoderChain(DecodeStage sink) => _decoder.Build(sink);

    /// <summary>The token string an id stands for in decoding, or null when the id is skipped.</summary>
    internal string? TokenForDecoding(int id, bool skipSpecialTokens)
    {
        var token = IdToToken(id);
        return token is null || (skipSpecialTokens && _isSpecial[id]) ? null : token;
    }

    private void EncodePlainText(string text, bool atStart, List<int> ids)
    {
        if (_preTokenizer is null)
        {
            _model.Tokenize(text, ids);
            return;
        }
        var words = new List<Piece>();
        _preTokenizer.PreTokenize([new Piece(text, atStart)], words);
        foreach (var word in words)
            _model.Tokenize(word.Text, ids);
    }

    private static string ReplaceLoneSurrogates(string text)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
            return text;
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                i++;
            else if (char.IsSurrogate(chars[i]))
                chars[i] = '\uFFFD';
        }
        return new string(chars);
    }
}
