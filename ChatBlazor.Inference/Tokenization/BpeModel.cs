using System.Collections.Concurrent;
using System.Text;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// Hugging Face's BPE model (models/bpe/model.rs and word.rs) for one pre-tokenized word: one symbol per
/// character (or its byte tokens with byte_fallback, or unk), then the lowest-ranked adjacent pair is merged
/// first, leftmost first among equal ranks, until no pair has a merge.
/// </summary>
internal sealed class BpeModel
{
    // Hugging Face caches words shorter than 256 bytes, up to 10,000 of them; the same limits keep a
    // server's memory flat however varied the prompts are.
    private const int CacheCapacity = 10_000;
    private const int MaxCachedWordLength = 256;

    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int _unkId;
    private readonly bool _fuseUnk;
    private readonly int[]? _byteTokenIds;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new();

    public BpeModel(
        Dictionary<string, int> vocab,
        Dictionary<long, (int Rank, int NewId)> merges,
        int unkId,
        bool fuseUnk,
        int[]? byteTokenIds,
        bool ignoreMerges)
    {
        _vocabLookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        _unkId = unkId;
        _fuseUnk = fuseUnk;
        _byteTokenIds = byteTokenIds;
        _ignoreMerges = ignoreMerges;
    }

    public static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0)
            return;
        // ignore_merges (Llama 3): a word that is itself in the vocabulary is that token, even where the
        // merges would have built it differently.
        if (_ignoreMerges && _vocabLookup.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }
        if (_cache.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var ids = MergeWord(word);
        if (word.Length < MaxCachedWordLength && _cache.Count < CacheCapacity)
            _cache.TryAdd(word, ids);
        output.AddRange(ids);
    }

    private int[] MergeWord(string word)
    {
        var symbols = InitialSymbols(word);
        var count = symbols.Count;
        if (count < 2)
            return symbols.ToArray();

        var ids = symbols.ToArray();
        var prev = new int[count];
        var next = new int[count];
        var removed = new bool[count];
        for (var i = 0; i < count; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
        }

        var queue = new PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)>(count);
        for (var i = 0; i + 1 < count; i++)
        {
            if (_merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var merge))
                queue.Enqueue((i, merge.NewId), (merge.Rank, i));
        }

        while (queue.TryDequeue(out var top, out _))
        {
            var pos = top.Pos;
            if (removed[pos] || next[pos] == -1)
                continue;
            var right = next[pos];
            // Entries go stale when a neighbour merged first; only a pair that still exists, with the merge
            // this entry was queued for, may be applied.
            if (!_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var merge) || merge.NewId != top.NewId)
                continue;

            ids[pos] = merge.NewId;
            removed[right] = true;
            next[pos] = next[right];
            if (next[pos] != -1)
                prev[next[pos]] = pos;

            if (prev[pos] != -1 && _merges.TryGetValue(PairKey(ids[prev[pos]], ids[pos]), out var left))
                queue.Enqueue((prev[pos], left.NewId), (left.Rank, prev[pos]));
            if (next[pos] != -1 && _merges.TryGetValue(PairKey(ids[pos], ids[next[pos]]), out var after))
                queue.Enqueue((pos, after.NewId), (after.Rank, pos));
        }

        var result = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            if (!removed[i])
                result.Add(ids[i]);
        }
        return result.ToArray();
    }

    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        var pendingUnk = false;
        Span<byte> utf8 = stackalloc byte[4];
        var i = 0;
        while (i < word.Length)
        {
            // One symbol per code point, as Rust iterates chars: a surrogate pair is one character.
            var length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var character = word.AsSpan(i, length);
            i += length;

            if (_vocabLookup.TryGetValue(character, out var id))
            {
                if (pendingUnk)
                {
                    symbols.Add(_unkId);
                    pendingUnk = false;
                }
                symbols.Add(id);
                continue;
            }

            if (_byteTokenIds is not null)
            {
                var byteCount = Encoding.UTF8.GetBytes(character, utf8);
                var allPresent = true;
                for (var b = 0; b < byteCount; b++)
                    allPresent &= _byteTokenIds[utf8[b]] >= 0;
                if (allPresent)
                {
                    // Like the Rust code, a pending unk is left pending here: it is emitted after these bytes.
                    for (var b = 0; b < byteCount; b++)
                        symbols.Add(_byteTokenIds[utf8[b]]);
                    continue;
                }
            }

            if (_unkId >= 0)
            {
                if (pendingUnk && !_fuseUnk)
                    symbols.Add(_unkId);
                pendingUnk = true;
            }
            // Without an unk token Hugging Face drops the character silently; so do we.
        }
        if (pendingUnk)
            symbols.Add(_unkId);
        return symbols;
    }
}
