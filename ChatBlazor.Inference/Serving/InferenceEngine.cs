using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Serving;

public sealed record EngineOptions
{
    /// <summary>Sequences decoded together in one batched step.</summary>
    [Range(1, 256)] public int MaxRunningSequences { get; init; } = 16;

    /// <summary>Requests that may wait for admission; beyond, new ones are refused at once as overloaded.</summary>
    [Range(0, 100_000)] public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>KV cache memory per model, shared by running sequences and cached prefixes.</summary>
    [Range(1L, long.MaxValue)] public long KvCacheBytes { get; init; } = 1L << 30;

    /// <summary>Prompt tokens processed per step across all sequences, so a long prompt never stalls the streams.</summary>
    [Range(1, 65_536)] public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>
    /// How keys and values are stored on the CPU (the GPU stores BF16). F16 fits twice the sequences of F32 in the
    /// same memory and moved the fixtures' logits by under 5e-3 (KvBlocksTests), against BF16's 0.06; F32 is exact.
    /// </summary>
    [EnumDataType(typeof(KvType))] public KvType KvType { get; init; } = KvType.F16;

    /// <summary>Positions reserved beyond the prompt when a sequence is admitted; later growth takes one block at a time.</summary>
    [Range(1, 65_536)] public int CacheGrowthTokens { get; init; } = 256;

    /// <summary>Finished sequences keep their cache for later requests that start the same way (the next turn of a chat).</summary>
    public bool PrefixCaching { get; init; } = true;

    /// <summary>Shorter shared prefixes are recomputed rather than copied.</summary>
    [Range(1, 65_536)] public int MinPrefixTokens { get; init; } = 16;
}

/// <summary>
/// The embedded engine: one continuous-batching scheduler per loaded model, each on its own thread. Every model is
/// loaded once and shared by all requests. Models can be loaded and unloaded while the engine serves the others.
/// </summary>
public sealed class InferenceEngine : IInferenceEngine, IDisposable
{
    private readonly EngineOptions _options;
    private readonly bool _ownsMetrics;
    private readonly Lock _lock = new();
    // Replaced whole under the lock, read without it: a request sees one consistent set of models.
    private Dictionary<string, Scheduler> _schedulers = new(StringComparer.Ordinal);
    private ModelInfo[] _models = [];

    public InferenceEngine(IEnumerable<LoadedModel> models, EngineOptions? options = null, EngineMetrics? metrics = null)
    {
        _options = options ?? new EngineOptions();
        Validator.ValidateObject(_options, new ValidationContext(_options), validateAllProperties: true);
        (Metrics, _ownsMetrics) = (metrics ?? new EngineMetrics(), metrics is null);
        foreach (var model in models)
            Load(model);
    }

    public IReadOnlyList<ModelInfo> Models => Volatile.Read(ref _models);

    /// <summary>Starts serving a loaded model; its name must be new to this engine.</summary>
    public void Load(LoadedModel model)
    {
        lock (_lock)
        {
            if (_schedulers.ContainsKey(model.Name))
                throw new InvalidOperationException($"model '{model.Name}' is already loaded");
            var schedulers = new Dictionary<string, Scheduler>(_schedulers, StringComparer.Ordinal) { [model.Name] = new Scheduler(model, _options, Metrics.For(model.Name)) };
            Publish(schedulers);
        }
    }

    /// <summary>Stops serving a model and frees its memory; its running and waiting requests fail as the host going away. False when it was not loaded.</summary>
    public bool Unload(string model)
    {
        Scheduler? removed;
        lock (_lock)
        {
            if (!_schedulers.TryGetValue(model, out removed))
                return false;
            Publish(new Dictionary<string, Scheduler>(_schedulers.Where(s => s.Key != model), StringComparer.Ordinal));
        }
        removed.Dispose();
        Metrics.Remove(model);
        return true;
    }

    private void Publish(Dictionary<string, Scheduler> schedulers)
    {
        // generation_config.json's do_sample false (or no file) means greedy, as in transformers.
        Volatile.Write(ref _models, [.. schedulers.Values.Select(s => new ModelInfo(s.Model.Name, s.Model.Model.Config.MaxPositionEmbeddings,
            s.Model.Defaults.DoSample ? s.Model.Defaults.Temperature : 0, s.Model.Defaults.TopP))]);
        Volatile.Write(ref _schedulers, schedulers);
    }

    /// <summary>The live figures of each loaded model.</summary>
    public IReadOnlyList<ModelStatus> Status() => [.. Volatile.Read(ref _schedulers).Keys.Select(m => Metrics.For(m).Status(m))];

    public EngineMetrics Metrics { get; }

    /// <summary>KV cache memory in use by a model's running sequences and cached prefixes, in bytes.</summary>
    public long KvCacheBytesInUse(string model) => Volatile.Read(ref _schedulers)[model].KvBytesInUse;

    public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) => Exact(Loaded(model).EncodeChat(messages));

    public TokenizedPrompt Tokenize(string model, string text) =>
        Exact((Loaded(model).Tokenizer ?? throw new ArgumentException($"model {model} takes token ids only", "prompt")).Encode(text));

    private LoadedModel Loaded(string model) => (Volatile.Read(ref _schedulers).GetValueOrDefault(model) ?? throw new ModelNotFoundException(model)).Model;

    private static TokenizedPrompt Exact(IReadOnlyList<int> ids) => new(ids.Count, ids);

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var scheduler = Volatile.Read(ref _schedulers).GetValueOrDefault(request.Model) ?? throw new ModelNotFoundException(request.Model);
        using var activity = EngineMetrics.Source.StartActivity("engine.generate");
        activity?.SetTag("gen_ai.request.model", request.Model);
        var sequence = scheduler.Submit(request);
        using var registration = cancellationToken.Register(() => scheduler.Cancel(sequence));
        try
        {
            // Not the caller's token: after a cancel the scheduler still sends the final chunk (reason, usage).
            await foreach (var chunk in sequence.Output.Reader.ReadAllAsync(CancellationToken.None))
                yield return chunk;
        }
        finally
        {
            // A consumer that stops reading early must not leave its sequence running.
            scheduler.Cancel(sequence);
        }
    }

    public void Dispose()
    {
        foreach (var scheduler in Volatile.Read(ref _schedulers).Values)
            scheduler.Dispose();
        if (_ownsMetrics)
            Metrics.Dispose();
    }
}
