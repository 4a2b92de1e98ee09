using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>Everything <see cref="Tokenizer"/> needs, read from a tokenizer.json.</summary>
internal sealed record TokenizerParts(
    Dictionary<string, int> Vocab,
    BpeModel Model,
    IReadOnlyList<AddedToken> AddedTokens,
    Normalizer? Normalizer,
    PreTokenizer? PreTokenizer,
    DecoderPlan Decoder);

/// <summary>
/// Reads the parts of Hugging Face's tokenizer.json that BPE language models use. Every field it does not
/// understand is refused with the field's path, because guessing would tokenize differently from the model's
/// training without any visible error. post_processor, truncation and padding are read by nobody: the chat
/// template writes BOS itself, and the engine decides lengths.
/// </summary>
internal sealed class TokenizerJsonReader
{
    private readonly string _file;

    private TokenizerJsonReader(string file) => _file = file;

    public static TokenizerParts Read(string path)
    {
        var reader = new TokenizerJsonReader(Path.GetFileName(path));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        using (document)
            return reader.ReadRoot(document.RootElement);
    }

    private TokenizerParts ReadRoot(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Fail("(root)", "must be a JSON object");

        var model = Required(root, "model", "model");
        var (vocab, bpe) = ReadModel(model);
        var addedTokens = ReadAddedTokens(root);
        var normalizer = Optional(root, "normalizer") is { } n ? ReadNormalizer(n, "normalizer") : null;
        var preTokenizer = Optional(root, "pre_tokenizer") is { } p ? ReadPreTokenizer(p, "pre_tokenizer") : null;
        var decoder = ReadDecoder(Optional(root, "decoder"));
        return new TokenizerParts(vocab, bpe, addedTokens, normalizer, preTokenizer, decoder);
    }

    private (Dictionary<string, int> Vocab, BpeModel Model) ReadModel(JsonElement model)
    {
        RequireObject(model, "model");
        // Files from old versions of the library leave out "type"; their BPE models are known by their merges.
        var type = Optional(model, "type") is { } t ? String(t, "model.type")
            : model.TryGetProperty("merges", out _) ? "BPE" : null;
        if (type != "BPE")
            throw Fail("model.type", $"'{type}' is not supported; only BPE models are");

        if (Optional(model, "dropout") is { } dropout && Number(dropout, "model.dropout") != 0)
            throw Fail("model.dropout", "BPE dropout makes encoding random and is not supported at inference");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (Optional(model, affix) is { } value && String(value, $"model.{affix}").Length > 0)
                throw Fail($"model.{affix}", "is not supported (byte-level and SentencePiece BPE models leave it null)");
        }

        var vocabElement = Required(model, "vocab", "model.vocab");
        RequireObject(vocabElement, "model.vocab");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
        {
            var id = Int(entry.Value, $"model.vocab[\"{entry.Name}\"]");
            if (id < 0)
                throw Fail($"model.vocab[\"{entry.Name}\"]", "must be a non-negative id");
            vocab[entry.Name] = id;
        }

        var merges = ReadMerges(Required(model, "merges", "model.merges"), vocab);

        var unkId = -1;
        if (Optional(model, "unk_token") is { } unk)
        {
            // Hugging Face only complains about a missing unk token when it needs one; without it unknown
            // characters are dropped, as they are when unk_token is null.
            if (vocab.TryGetValue(String(unk, "model.unk_token"), out var id))
                unkId = id;
        }

        int[]? byteTokenIds = null;
        if (Bool(model, "byte_fallback", "model.byte_fallback", defaultValue: false))
        {
            byteTokenIds = new int[256];
            for (var b = 0; b < 256; b++)
                byteTokenIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }

        var bpe = new BpeModel(
            vocab,
            merges,
            unkId,
            Bool(model, "fuse_unk", "model.fuse_unk", defaultValue: false),
            byteTokenIds,
            Bool(model, "ignore_merges", "model.ignore_merges", defaultValue: false));
        return (vocab, bpe);
    }

    private Dictionary<long, (int Rank, int NewId)> ReadMerges(JsonElement merges, Dictionary<string, int> vocab)
    {
        if (merges.ValueKind != JsonValueKind.Array)
            throw Fail("model.merges", "must be an array");
        var result = new Dictionary<long, (int, int)>(merges.GetArrayLength());
        var rank = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            var path = $"model.merges[{rank}]";
            string left, right;
            if (merge.ValueKind == JsonValueKind.String)
            {
                // The older "a b" form. Splitting on every space (not the first) and insisting on two parts
                // is what the Rust loader does.
                var parts = merge.GetString()!.Split(' ');
                if (parts.Length != 2)
                    throw Fail(path, $"'{merge.GetString()}' is not two tokens separated by one space");
                (left, right) = (parts[0], parts[1]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                left = String(merge[0], path + "[0]");
                right = String(merge[1], path + "[1]");
            }
            else
            {
                throw Fail(path, "must be a string \"a b\" or a pair [\"a\", \"b\"]");
            }

            if (!vocab.TryGetValue(left, out var leftId))
                throw Fail(path, $"'{left}' is not in model.vocab");
            if (!vocab.TryGetValue(right, out var rightId))
                throw Fail(path, $"'{right}' is not in model.vocab");
            if (!vocab.TryGetValue(left + right, out var newId))
                throw Fail(path, $"the merged token '{left + right}' is not in model.vocab");
            // A repeated pair takes its last rank, as when the Rust loader collects them into a map.
            result[BpeModel.PairKey(leftId, rightId)] = (rank, newId);
            rank++;
        }
        return result;
    }

    private List<AddedToken> ReadAddedTokens(JsonElement root)
    {
        var tokens = new List<AddedToken>();
        if (Optional(root, "added_tokens") is not { } array)
            return tokens;
        if (array.ValueKind != JsonValueKind.Array)
            throw Fail("added_tokens", "must be an array");
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            var path = $"added_tokens[{index++}]";
            RequireObject(element, path);
            var id = Int(Required(element, "id", path + ".id"), path + ".id");
            if (id < 0)
                throw Fail(path + ".id", "must be a non-negative id");
            var content = String(Required(element, "content", path + ".content"), path + ".content");
            if (content.Length == 0)
                throw Fail(path + ".content", "must not be empty");
            tokens.Add(new AddedToken(
                id,
                content,
                Bool(element, "single_word", path + ".single_word", false),
                Bool(element, "lstrip", path + ".lstrip", false),
                Bool(element, "rstrip", path + ".rstrip", false),
                Bool(element, "normalized", path + ".normalized", true),
                Bool(element, "special", path + ".special", false)));
        }
        return tokens;
    }

    private Normalizer ReadNormalizer(JsonElement element, string path)
    {
        RequireObject(element, path);
        var type = String(Required(element, "type", path + ".type"), path + ".type");
        switch (type)
        {
            case "Sequence":
                return new SequenceNormalizer(
                    Items(element, "normalizers", path).Select(item => ReadNormalizer(item.Element, item.Path)).ToList());
            case "Prepend":
                return new PrependNormalizer(String(Required(element, "prepend", path + ".prepend"), path + ".prepend"));
            case "Replace":
            {
                var (literal, regex) = ReadPattern(element, path);
                return new ReplaceNormalizer(literal, regex, String(Required(element, "content", path + ".content"), path + ".content"));
            }
            case "NFC":
                return new UnicodeNormalizer(NormalizationForm.FormC);
            case "NFD":
                return new UnicodeNormalizer(NormalizationForm.FormD);
            case "NFKC":
                return new UnicodeNormalizer(NormalizationForm.FormKC);
            case "NFKD":
                return new UnicodeNormalizer(NormalizationForm.FormKD);
            default:
                throw Fail(path + ".type", $"normalizer '{type}' is not supported (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD)");
        }
    }

    private PreTokenizer ReadPreTokenizer(JsonElement element, string path)
    {
        RequireObject(element, path);
        var type = String(Required(element, "type", path + ".type"), path + ".type");
        switch (type)
        {
            case "Sequence":
                return new SequencePreTokenizer(
                    Items(element, "pretokenizers", path).Select(item => ReadPreTokenizer(item.Element, item.Path)).ToList());
            case "ByteLevel":
                return new ByteLevelPreTokenizer(
                    Bool(element, "add_prefix_space", path + ".add_prefix_space", true),
                    Bool(element, "use_regex", path + ".use_regex", true));
            case "Split":
            {
                var (literal, regex) = ReadPattern(element, path);
                var invert = Bool(element, "invert", path + ".invert", false);
                var splitter = literal is not null ? PatternSplitter.ForLiteral(literal, invert) : PatternSplitter.ForRegex(regex!, invert);
                var behaviorName = String(Required(element, "behavior", path + ".behavior"), path + ".behavior");
                if (!Enum.TryParse<SplitBehavior>(behaviorName, ignoreCase: false, out var behavior) || !Enum.IsDefined(behavior))
                    throw Fail(path + ".behavior", $"'{behaviorName}' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
                return new SplitPreTokenizer(splitter, behavior);
            }
            case "Metaspace":
                return new MetaspacePreTokenizer(
                    ReadReplacement(element, path),
                    ReadPrependScheme(element, path),
                    Bool(element, "split", path + ".split", true));
            case "Digits":
                return new DigitsPreTokenizer(Bool(element, "individual_digits", path + ".individual_digits", false));
            default:
                throw Fail(path + ".type", $"pre-tokenizer '{type}' is not supported (supported: Sequence, ByteLevel, Split, Metaspace, Digits)");
        }
    }

    private DecoderPlan ReadDecoder(JsonElement? element)
    {
        var stages = new List<Func<DecodeStage, DecodeStage>>();
        if (element is null)
        {
            stages.Add(next => new JoinWithSpaceStage(next));
            return new DecoderPlan(stages);
        }
        var fused = false;
        AddDecoderStages(element.Value, "decoder", stages, ref fused);
        return new DecoderPlan(stages);
    }

    private void AddDecoderStages(JsonElement element, string path, List<Func<DecodeStage, DecodeStage>> stages, ref bool fused)
    {
        RequireObject(element, path);
        var type = String(Required(element, "type", path + ".type"), path + ".type");
        // Once ByteLevel or Fuse has joined the tokens, the rest of the chain sees one token: the whole text.
        // Only Strip has a streaming form for that; the rest would need the whole text before emitting any.
        if (fused && type is not ("Strip" or "Fuse" or "Sequence"))
            throw Fail(path + ".type", $"decoder '{type}' after ByteLevel or Fuse is not supported");
        switch (type)
        {
            case "Sequence":
                foreach (var (item, itemPath) in Items(element, "decoders", path))
                    AddDecoderStages(item, itemPath, stages, ref fused);
                break;
            case "ByteLevel":
                stages.Add(next => new ByteLevelDecodeStage(next));
                fused = true;
                break;
            case "Fuse":
                fused = true;
                break;
            case "ByteFallback":
                stages.Add(next => new ByteFallbackStage(next));
                break;
            case "Replace":
            {
                var (literal, regex) = ReadPattern(element, path);
                var content = String(Required(element, "content", path + ".content"), path + ".content");
                stages.Add(next => new ReplaceStage(literal, regex, content, next));
                break;
            }
            case "Metaspace":
            {
                var replacement = ReadReplacement(element, path);
                var stripFirst = ReadPrependScheme(element, path) != PrependScheme.Never;
                stages.Add(next => new MetaspaceDecodeStage(replacement, stripFirst, next));
                break;
            }
            case "Strip":
            {
                var contentPath = path + ".content";
                var content = String(Required(element, "content", contentPath), contentPath);
                if (content.Length != 1)
                    throw Fail(contentPath, "must be a single character");
                var start = Int(Required(element, "start", path + ".start"), path + ".start");
                var stop = Int(Required(element, "stop", path + ".stop"), path + ".stop");
                if (start < 0 || stop < 0)
                    throw Fail(path, "start and stop must not be negative");
                if (fused)
                    stages.Add(next => new StripStreamStage(content[0], start, stop, next));
                else
                    stages.Add(next => new StripTokenStage(content[0], start, stop, next));
                break;
            }
            default:
                throw Fail(path + ".type", $"decoder '{type}' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace)");
        }
    }

    private (string? Literal, Regex? Regex) ReadPattern(JsonElement element, string path)
    {
        var patternPath = path + ".pattern";
        var pattern = Required(element, "pattern", patternPath);
        RequireObject(pattern, patternPath);
        if (Optional(pattern, "String") is { } literal)
            return (String(literal, patternPath + ".String"), null);
        if (Optional(pattern, "Regex") is { } regex)
        {
            var source = String(regex, patternPath + ".Regex");
            try
            {
                return (null, PatternSplitter.CompileOnigurumaPattern(source));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{_file}: {patternPath}.Regex: .NET cannot compile this pattern: {e.Message}", e);
            }
        }
        throw Fail(patternPath, "must hold either \"String\" or \"Regex\"");
    }

    private char ReadReplacement(JsonElement element, string path)
    {
        var replacement = String(Required(element, "replacement", path + ".replacement"), path + ".replacement");
        if (replacement.Length != 1)
            throw Fail(path + ".replacement", "must be a single character");
        return replacement[0];
    }

    private PrependScheme ReadPrependScheme(JsonElement element, string path)
    {
        if (Optional(element, "prepend_scheme") is { } scheme)
        {
            return String(scheme, path + ".prepend_scheme") switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                var other => throw Fail(path + ".prepend_scheme", $"'{other}' is not one of always, first, never"),
            };
        }
        // Files written before prepend_scheme existed say add_prefix_space instead.
        return Bool(element, "add_prefix_space", path + ".add_prefix_space", true) ? PrependScheme.Always : PrependScheme.Never;
    }

    private IEnumerable<(JsonElement Element, string Path)> Items(JsonElement element, string name, string path)
    {
        var array = Required(element, name, $"{path}.{name}");
        if (array.ValueKind != JsonValueKind.Array)
            throw Fail($"{path}.{name}", "must be an array");
        return array.EnumerateArray().Select((item, i) => (item, $"{path}.{name}[{i}]")).ToList();
    }

    private static JsonElement? Optional(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private JsonElement Required(JsonElement obj, string name, string path) =>
        Optional(obj, name) ?? throw Fail(path, "is missing");

    private void RequireObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Fail(path, "must be a JSON object");
    }

    private string String(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw Fail(path, "must be a string");

    private int Int(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value) ? value : throw Fail(path, "must be an integer");

    private double Number(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.Number ? element.GetDouble() : throw Fail(path, "must be a number");

    private bool Bool(JsonElement obj, string name, string path, bool defaultValue) => Optional(obj, name) switch
    {
        null => defaultValue,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Fail(path, "must be true or false"),
    };

    private InvalidDataException Fail(string path, string problem) => new($"{_file}: {path} {problem}");
}
