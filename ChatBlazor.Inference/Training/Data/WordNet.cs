using System.Globalization;

namespace ChatBlazor.Inference.Training.Data;

/// <summary>A word's most frequent sense: its part of speech ("noun", "verb", "adjective", "adverb") and short gloss.</summary>
public sealed record WordDefinition(string Word, string PartOfSpeech, string Gloss, int Frequency);

/// <summary>
/// Reads the WordNet 3.0 database files (index.pos, data.pos, cntlist.rev) as shipped by Debian's wordnet-base.
/// WordNet is © Princeton University, under the WordNet 3.0 licence (permissive, BSD-like: use, copy, modify and
/// distribute with the copyright notice kept). https://wordnet.princeton.edu/license-and-commercial-use
/// </summary>
public static class WordNet
{
    private static readonly (string File, string Name, char SenseKeyType)[] _partsOfSpeech =
        [("noun", "noun", '1'), ("verb", "verb", '2'), ("adj", "adjective", '3'), ("adv", "adverb", '4')];

    /// <summary>
    /// Common words with the gloss of their first (most frequent) sense, most frequent first.
    /// A word qualifies when its lemma is lowercase ASCII letters only (at least 3), it is written in lowercase in
    /// its synset (which drops proper nouns such as "Paris": index lemmas are always lowercase), and its first sense
    /// was seen at least <paramref name="minimumFrequency"/> times in the SemCor tagged corpus: the tag count from
    /// cntlist.rev, or the index's tagsense_cnt when cntlist.rev is absent. A word in several parts of speech keeps
    /// the one whose first sense is most frequent (ties: noun, verb, adjective, adverb). A gloss that uses the word
    /// itself ("attempt: make an effort or attempt") disqualifies that part of speech.
    /// </summary>
    public static IReadOnlyList<WordDefinition> LoadCommonWords(string directory, int minimumFrequency = 1)
    {
        var counts = ReadFirstSenseCounts(Path.Combine(directory, "cntlist.rev"));
        var best = new Dictionary<string, WordDefinition>(StringComparer.Ordinal);
        foreach (var (file, name, senseKeyType) in _partsOfSpeech)
        {
            var indexPath = Path.Combine(directory, "index." + file);
            var dataPath = Path.Combine(directory, "data." + file);
            if (!File.Exists(indexPath) || !File.Exists(dataPath))
                continue;

            // offset of the first sense -> (lemma, frequency) of the words that want its gloss
            var wanted = new Dictionary<string, List<(string Lemma, int Frequency)>>(StringComparer.Ordinal);
            foreach (var line in File.ReadLines(indexPath))
            {
                if (ParseIndexLine(line) is not { } entry || !IsPlainWord(entry.Lemma))
                    continue;
                var frequency = counts is null ? entry.TaggedSenseCount : counts.GetValueOrDefault($"{entry.Lemma}%{senseKeyType}");
                if (frequency < minimumFrequency)
                    continue;
                if (!wanted.TryGetValue(entry.FirstOffset, out var list))
                    wanted[entry.FirstOffset] = list = [];
                list.Add((entry.Lemma, frequency));
            }

            foreach (var line in File.ReadLines(dataPath))
            {
                if (line.StartsWith(' ') || ParseDataLine(line) is not { } synset || !wanted.TryGetValue(synset.Offset, out var lemmas))
                    continue;
                foreach (var (lemma, frequency) in lemmas)
                {
                    // The word as the synset writes it must be lowercase too.
                    if (!synset.Words.Contains(lemma, StringComparer.Ordinal) || IsCircular(lemma, synset.Gloss))
                        continue;
                    if (!best.TryGetValue(lemma, out var current) || frequency > current.Frequency)
                        best[lemma] = new WordDefinition(lemma, name, synset.Gloss, frequency);
                }
            }
        }
        return [.. best.Values.OrderByDescending(d => d.Frequency).ThenBy(d => d.Word, StringComparer.Ordinal)];
    }

    public sealed record IndexEntry(string Lemma, int TaggedSenseCount, string FirstOffset);

    public sealed record Synset(string Offset, IReadOnlyList<string> Words, string Gloss);

    /// <summary>
    /// <c>lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset [synset_offset...]</c>;
    /// null for the licence header (lines starting with a space) and malformed lines.
    /// </summary>
    public static IndexEntry? ParseIndexLine(string line)
    {
        if (line.Length == 0 || line[0] == ' ')
            return null;
        var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 4 || !int.TryParse(t[3], CultureInfo.InvariantCulture, out var pointerCount))
            return null;
        var i = 4 + pointerCount; // sense_cnt
        if (t.Length < i + 3 || !int.TryParse(t[i + 1], CultureInfo.InvariantCulture, out var tagged))
            return null;
        return new IndexEntry(t[0], tagged, t[i + 2]);
    }

    /// <summary>
    /// <c>synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss</c>;
    /// w_cnt and lex_id are hexadecimal. Words lose adjective markers such as "(a)"; the gloss is <see cref="ShortGloss"/>.
    /// </summary>
    public static Synset? ParseDataLine(string line)
    {
        var bar = line.IndexOf(" | ", StringComparison.Ordinal);
        if (bar < 0)
            return null;
        var t = line[..bar].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 6 || !int.TryParse(t[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var wordCount) || t.Length < 4 + 2 * wordCount)
            return null;
        var words = new string[wordCount];
        for (var w = 0; w < wordCount; w++)
        {
            var word = t[4 + 2 * w];
            var marker = word.IndexOf('(');
            words[w] = marker > 0 ? word[..marker] : word;
        }
        var gloss = ShortGloss(line[(bar + 3)..]);
        return gloss.Length == 0 ? null : new Synset(t[0], words, gloss);
    }

    /// <summary>The definition part of a gloss: up to the first ';' or the first quoted example.</summary>
    public static string ShortGloss(string gloss)
    {
        var end = gloss.IndexOfAny([';', '"']);
        if (end >= 0)
            gloss = gloss[..end];
        return gloss.Trim().TrimEnd(',', ':', '-').Trim();
    }

    // "attempt: make an effort or attempt" teaches nothing; such words are left out.
    private static bool IsCircular(string lemma, string gloss) =>
        gloss.Split([' ', ',', '(', ')', '.'], StringSplitOptions.RemoveEmptyEntries).Contains(lemma, StringComparer.OrdinalIgnoreCase);

    private static bool IsPlainWord(string lemma) => lemma.Length >= 3 && lemma.All(c => c is >= 'a' and <= 'z');

    /// <summary>cntlist.rev lines <c>sense_key sense_number tag_cnt</c>; keeps sense 1 as "lemma%type" (satellite 5 counts as adjective 3).</summary>
    private static Dictionary<string, int>? ReadFirstSenseCounts(string path)
    {
        if (!File.Exists(path))
            return null;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (t.Length != 3 || t[1] != "1" || !int.TryParse(t[2], CultureInfo.InvariantCulture, out var count))
                continue;
            var percent = t[0].IndexOf('%');
            if (percent <= 0 || percent + 1 >= t[0].Length)
                continue;
            var type = t[0][percent + 1] == '5' ? '3' : t[0][percent + 1];
            var key = $"{t[0][..percent]}%{type}";
            counts[key] = Math.Max(counts.GetValueOrDefault(key), count);
        }
        return counts;
    }
}
