using System.Runtime.InteropServices;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// Learns a byte-level BPE vocabulary from text, for <see cref="TokenizerJson.WriteByteLevel"/> to write and
/// <see cref="Tokenizer.Load"/> to read back.
/// </summary>
public static class BpeTrainer
{
    // Exactly the words the written tokenizer.json will hand its BPE model: its split pattern, then GPT-2's byte
    // alphabet. Built from the same pre-tokenizer classes the loader builds, so training cannot drift from encoding.
    private static readonly PreTokenizer WordSplitter = new SequencePreTokenizer(
    [
        new SplitPreTokenizer(
            PatternSplitter.ForRegex(PatternSplitter.CompileOnigurumaPattern(TokenizerJson.SplitPattern)),
            SplitBehavior.Isolated),
        new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false),
    ]);

    /// <summary>
    /// Learns merges over <paramref name="corpus"/> (one string per document) until the vocabulary — 256 byte
    /// tokens, the merges, then <paramref name="specialTokens"/> — has <paramref name="vocabSize"/> entries.
    /// Each step merges the adjacent pair seen most often; ties go to the pair whose left token, then right
    /// token, comes first in ordinal order of their byte-level spelling. Training stops early, with fewer
    /// merges, when the best pair is seen fewer than <paramref name="minFrequency"/> times. Special tokens
    /// written in the corpus are cut out before counting, as the tokenizer cuts them out before encoding.
    /// </summary>
    /// <returns>The merges in rank order, in byte-level spelling (a space is "Ġ").</returns>
    public static IReadOnlyList<(string Left, string Right)> Train(
        IEnumerable<string> corpus,
        int vocabSize,
        IReadOnlyList<string> specialTokens,
        int minFrequency = 2)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(specialTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        for (var i = 0; i < specialTokens.Count; i++)
        {
            if (string.IsNullOrEmpty(specialTokens[i]) || specialTokens.Take(i).Contains(specialTokens[i]))
                throw new ArgumentException($"specialTokens[{i}] '{specialTokens[i]}' is empty or not unique.", nameof(specialTokens));
        }
        var mergeBudget = vocabSize - ByteCount - specialTokens.Count;
        if (mergeBudget < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"The vocabulary needs at least {ByteCount} byte tokens plus {specialTokens.Count} special tokens.");
        }

        var words = CountWords(corpus, specialTokens);
        return new MergeLearner(words, specialTokens).Learn(mergeBudget, minFrequency);
    }

    private const int ByteCount = 256;

    private static Dictionary<string, long> CountWords(IEnumerable<string> corpus, IReadOnlyList<string> specialTokens)
    {
        // Ids are irrelevant here: the matcher only tells where special tokens sit so the text around them is
        // what gets counted, as in Tokenizer.Encode.
        var specials = new AddedTokenMatcher(specialTokens.Select((content, i) =>
            (content, new AddedToken(i, content, false, false, false, false, true))));
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var segments = new List<Segment>();
        var pieces = new List<Piece>();
        var words = new List<Piece>();
        foreach (var document in corpus)
        {
            if (string.IsNullOrEmpty(document))
                continue;
            segments.Clear();
            specials.Split(document, segments);
            foreach (var segment in segments)
            {
                if (segment.IsToken || segment.Start == segment.End)
                    continue;
                pieces.Clear();
                words.Clear();
                pieces.Add(new Piece(document[segment.Start..segment.End], segment.Start == 0));
                WordSplitter.PreTokenize(pieces, words);
                foreach (var word in words)
                {
                    ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, word.Text, out _);
                    count++;
                }
            }
        }
        return counts;
    }

    /// <summary>
    /// The classic incremental trainer: each distinct word is held once with its frequency, pair counts are
    /// kept up to date by touching only the words that contain the merged pair, and a max-heap with lazy
    /// deletion picks the next pair (an entry whose count went stale is re-queued with the current count).
    /// </summary>
    private sealed class MergeLearner
    {
        private readonly List<string> _tokens = [];
        // Tokens that exist or are reserved (special tokens): a merge that would spell one again is never
        // learned, because WriteByteLevel gives every merge a new id (256 + i).
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
        private readonly int[][] _symbols;
        private readonly int[] _lengths;
        private readonly long[] _frequencies;
        private readonly Dictionary<long, long> _pairCounts = [];
        // Which words may contain each pair. Entries are never removed when a word loses a pair, so a merge
        // re-checks each word; that is cheaper than keeping the sets exact.
        private readonly Dictionary<long, HashSet<int>> _pairWords = [];
        private readonly PriorityQueue<long, (long Count, long Pair)> _queue;

        public MergeLearner(Dictionary<string, long> words, IReadOnlyList<string> specialTokens)
        {
            for (var b = 0; b < ByteCount; b++)
            {
                var token = ByteLevelAlphabet.ByteToChar[b].ToString();
                _tokens.Add(token);
                _taken.Add(token);
            }
            foreach (var special in specialTokens)
                _taken.Add(special);

            _symbols = new int[words.Count][];
            _lengths = new int[words.Count];
            _frequencies = new long[words.Count];
            var w = 0;
            foreach (var (text, frequency) in words)
            {
                var symbols = new int[text.Length];
                for (var i = 0; i < text.Length; i++)
                {
                    // The pre-tokenizer spelled the word in the byte alphabet, so every character maps back.
                    ByteLevelAlphabet.TryGetByte(text[i], out var value);
                    symbols[i] = value;
                }
                _symbols[w] = symbols;
                _lengths[w] = symbols.Length;
                _frequencies[w] = frequency;
                for (var i = 0; i + 1 < symbols.Length; i++)
                    AddPair(symbols[i], symbols[i + 1], frequency, w);
                w++;
            }

            _queue = new PriorityQueue<long, (long Count, long Pair)>(
                _pairCounts.Count * 2, Comparer<(long Count, long Pair)>.Create(ComparePriority));
            foreach (var (pair, count) in _pairCounts)
                _queue.Enqueue(pair, (count, pair));
        }

        public List<(string Left, string Right)> Learn(int mergeBudget, int minFrequency)
        {
            var merges = new List<(string Left, string Right)>();
            var touched = new HashSet<long>();
            while (merges.Count < mergeBudget && _queue.TryDequeue(out var pair, out var priority))
            {
                var current = _pairCounts.GetValueOrDefault(pair);
                if (current != priority.Count)
                {
                    // Counts only fall for pairs already queued (new pairs all contain the new token), so a
                    // stale entry overstates its pair and re-queuing it at the true count keeps the heap exact.
                    if (current > 0)
                        _queue.Enqueue(pair, (current, pair));
                    continue;
                }
                if (current < minFrequency)
                    break;

                var (left, right) = Split(pair);
                var merged = _tokens[left] + _tokens[right];
                // Merging every occurrence left to right should never spell an existing token a second way
                // (none did in 5.7k merges over 8 MB), but a special token can share a spelling, and
                // WriteByteLevel rejects a merge that adds no new id; such a pair stays apart for good.
                if (!_taken.Add(merged))
                    continue;

                var newId = _tokens.Count;
                _tokens.Add(merged);
                merges.Add((_tokens[left], _tokens[right]));
                touched.Clear();
                ApplyMerge(pair, left, right, newId, touched);
                foreach (var newPair in touched)
                {
                    if (_pairCounts.TryGetValue(newPair, out var count) && count > 0)
                        _queue.Enqueue(newPair, (count, newPair));
                }
            }
            return merges;
        }

        private void ApplyMerge(long pair, int left, int right, int newId, HashSet<long> touched)
        {
            if (!_pairWords.Remove(pair, out var wordIds))
                return;
            foreach (var w in wordIds)
            {
                var symbols = _symbols[w];
                var length = _lengths[w];
                var frequency = _frequencies[w];

                // Left to right, non-overlapping: "a a a" becomes "aa a", as the tokenizer's merge would do.
                // Only the pairs around each merge change. The left neighbour is read from the output already
                // written, so in "A B A B" the second merge trades the (new, A) that the first one counted for
                // (new, new), and overlaps like "a a a a" come out right.
                var write = 0;
                for (var read = 0; read < length; read++)
                {
                    if (read + 1 < length && symbols[read] == left && symbols[read + 1] == right)
                    {
                        SubtractPair(left, right, frequency);
                        if (write > 0)
                        {
                            SubtractPair(symbols[write - 1], left, frequency);
                            AddPair(symbols[write - 1], newId, frequency, w);
                            touched.Add(PairKey(symbols[write - 1], newId));
                        }
                        if (read + 2 < length)
                        {
                            SubtractPair(right, symbols[read + 2], frequency);
                            AddPair(newId, symbols[read + 2], frequency, w);
                            touched.Add(PairKey(newId, symbols[read + 2]));
                        }
                        symbols[write++] = newId;
                        read++;
                    }
                    else
                    {
                        symbols[write++] = symbols[read];
                    }
                }
                _lengths[w] = write;
            }
            _pairCounts.Remove(pair);
        }

        private void AddPair(int left, int right, long frequency, int word)
        {
            var key = PairKey(left, right);
            ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, key, out _);
            count += frequency;
            ref var set = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairWords, key, out _);
            (set ??= []).Add(word);
        }

        private void SubtractPair(int left, int right, long frequency)
        {
            ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_pairCounts, PairKey(left, right));
            count -= frequency;
        }

        // Highest count first; among equal counts the pair that sorts first by (left, right) spelling, ordinally.
        private int ComparePriority((long Count, long Pair) x, (long Count, long Pair) y)
        {
            var byCount = y.Count.CompareTo(x.Count);
            if (byCount != 0)
                return byCount;
            var (xLeft, xRight) = Split(x.Pair);
            var (yLeft, yRight) = Split(y.Pair);
            var byLeft = string.CompareOrdinal(_tokens[xLeft], _tokens[yLeft]);
            return byLeft != 0 ? byLeft : string.CompareOrdinal(_tokens[xRight], _tokens[yRight]);
        }

        private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

        private static (int Left, int Right) Split(long pair) => ((int)(pair >> 32), (int)(uint)pair);
    }
}
