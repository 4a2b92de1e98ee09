using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Serving;

internal sealed record PrefixMatch(int Length, KvCache Cache);

/// <summary>
/// KV caches of finished sequences, kept while memory allows so that a request starting with the same tokens
/// (the same system prompt, or the earlier turns of a conversation) copies those positions instead of recomputing
/// them. Least recently used first out.
/// </summary>
internal sealed class PrefixCache
{
    private readonly LinkedList<(int[] Tokens, KvCache Cache)> _entries = new(); // most recently used first

    public void Add(int[] tokens, KvCache cache) => _entries.AddFirst((tokens, cache));

    /// <summary>The cached prefix sharing the most leading tokens with <paramref name="tokens"/>, at most <paramref name="maxLength"/>.</summary>
    public PrefixMatch? Longest(IReadOnlyList<int> tokens, int maxLength)
    {
        LinkedListNode<(int[] Tokens, KvCache Cache)>? best = null;
        var bestLength = 0;
        for (var node = _entries.First; node is not null; node = node.Next)
        {
            var cached = node.Value.Tokens;
            var length = 0;
            var limit = Math.Min(Math.Min(cached.Length, tokens.Count), maxLength);
            while (length < limit && cached[length] == tokens[length])
                length++;
            if (length > bestLength)
                (best, bestLength) = (node, length);
        }
        if (best is null)
            return null;
        _entries.Remove(best);
        _entries.AddFirst(best);
        return new PrefixMatch(bestLength, best.Value.Cache);
    }

    /// <summary>Removes and returns the least recently used cache, or null when empty.</summary>
    public KvCache? EvictOldest()
    {
        if (_entries.Last is not { } last)
            return null;
        _entries.RemoveLast();
        return last.Value.Cache;
    }
}
