using System.Diagnostics;
using System.Runtime.InteropServices;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// Continuous batching for one model, on one thread. Each step: admit waiting requests while memory and
/// <see cref="EngineOptions.MaxRunningSequences"/> allow; run prefill chunks of newly admitted prompts under a
/// per-step token budget; then decode one token for every other running sequence in batched steps that read each
/// weight matrix once. Sequences join and leave between steps. KV memory is a byte budget: caches grow as
/// sequences do; when growth finds no memory the youngest sequence is preempted and later recomputed, never failed.
/// Finished sequences leave their caches behind as reusable prefixes until memory is needed.
/// </summary>
internal sealed class Scheduler : IDisposable
{
    private readonly EngineOptions _options;
    private readonly EngineMetrics.ModelMetrics _metrics;
    private readonly Lock _lock = new();
    private readonly LinkedList<Sequence> _waiting = new(); // guarded by _lock
    private readonly List<Sequence> _running = [];          // scheduler thread only
    private readonly PrefixCache _prefixes = new();         // scheduler thread only
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private readonly float[] _logits;
    private long _kvBytes;
    private volatile bool _stopping;

    public Scheduler(LoadedModel model, EngineOptions options, EngineMetrics.ModelMetrics metrics)
    {
        Model = model;
        _options = options;
        _metrics = metrics;
        _logits = new float[LlamaModel.MaxStepBatch * model.Model.Config.VocabSize];
        WarmUp(model.Model, options.PrefillChunkTokens, _logits);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"scheduler {model.Name}" };
        _thread.Start();
    }

    public LoadedModel Model { get; }

    /// <summary>
    /// A full prefill chunk and a few decoding steps before the model takes requests. The first request would otherwise
    /// pay for compiling the whole path and LibTorch's first-call set-up: 1.1 s instead of 0.58 s to the first token
    /// of a 256-token prompt on the smol135 shape, the worst figure of a whole load test.
    /// </summary>
    private static void WarmUp(LlamaModel model, int chunkTokens, float[] logits)
    {
        var config = model.Config;
        var length = Math.Min(chunkTokens, config.MaxPositionEmbeddings - 4);
        if (length < 17)
            return; // too small a window to reach the many-row prefill path; nothing worth warming
        var prompt = Enumerable.Range(0, length).Select(i => i % config.VocabSize).ToArray();
        using var cache = new KvCache(config, length + 4, model.Device);
        using (model.Forward(prompt, 0, cache))
        {
        }
        for (var position = length; position < length + 4; position++)
            model.Step([0], [position], [cache], logits);
    }

    public long KvBytesInUse => Interlocked.Read(ref _kvBytes);

    private ModelConfig Config => Model.Model.Config;

    /// <summary>Tokenizes and validates on the caller's thread, then queues; throws instead of queueing a request that cannot run.</summary>
    public Sequence Submit(CompletionRequest request)
    {
        request.Sampling.Validate(Config.VocabSize);
        var prompt = (request.PromptTokens, request.Messages, request.Prompt) switch
        {
            ({ } ids, null, null) => ids.ToList(),
            (null, { } messages, null) => Model.EncodeChat(messages).ToList(),
            (null, null, { } text) => (Model.Tokenizer ?? throw new ArgumentException($"model {Model.Name} takes token ids only", "prompt")).Encode(text).ToList(),
            _ => throw new ArgumentException("give exactly one of messages, prompt or prompt tokens", "prompt"),
        };
        if (request.AssistantPrefix is { Length: > 0 } prefix)
            prompt.AddRange((Model.Tokenizer ?? throw new ArgumentException($"model {Model.Name} takes token ids only", "prompt")).Encode(prefix));
        var field = request.Messages is null ? "prompt" : "messages";
        Completion.CheckPrompt(prompt, Config, field);
        if (KvCache.BytesFor(Config, prompt.Count + 1, Model.Model.Device) > _options.KvCacheBytes)
            throw new ArgumentException($"the prompt has {prompt.Count} tokens, more than this server's KV cache memory holds", field);

        var budget = Math.Min(request.Sampling.MaxTokens, Config.MaxPositionEmbeddings - prompt.Count);
        var sequence = new Sequence(prompt, request.Sampling, budget, Model.Tokenizer, Model.EosTokenIds);
        lock (_lock)
        {
            if (_waiting.Count >= _options.MaxQueuedRequests)
                throw new EngineOverloadedException($"model {Model.Name} is overloaded: {_waiting.Count} requests are already waiting; retry shortly");
            _waiting.AddLast(sequence);
        }
        _wake.Release();
        return sequence;
    }

    public void Cancel(Sequence sequence)
    {
        if (sequence.Finished || sequence.CancelRequested)
            return;
        sequence.CancelRequested = true;
        _wake.Release();
    }

    private void Loop()
    {
        while (!_stopping)
        {
            bool idle;
            lock (_lock)
                idle = _running.Count == 0 && _waiting.Count == 0;
            if (idle)
            {
                _wake.Wait();
                continue;
            }
            try
            {
                Admit();
                Step();
            }
            catch (Exception e) when (!_stopping)
            {
                // A failed step must not take the server down: fail what was running and go on.
                foreach (var sequence in _running.ToArray())
                    Fail(sequence, e);
            }
            lock (_lock)
                _metrics.SetLoad(_running.Count, _waiting.Count, (double)KvBytesInUse / _options.KvCacheBytes);
        }
    }

    private void Admit()
    {
        while (_running.Count < _options.MaxRunningSequences)
        {
            Sequence? next;
            lock (_lock)
                next = _waiting.First?.Value;
            if (next is null)
                return;
            if (next.CancelRequested)
            {
                Dequeue(next);
                Finish(next, next.Completion.End(FinishReason.Cancelled));
                continue;
            }

            var capacity = Math.Min(Config.MaxPositionEmbeddings, next.Tokens.Count + Math.Min(next.Budget - next.Completion.Generated, _options.CacheGrowthTokens));
            if (!Reserve(KvCache.BytesFor(Config, capacity, Model.Model.Device)))
            {
                if (_running.Count > 0)
                    return; // wait for running sequences to finish and free memory
                // Alone and still short: room for just the next token, or, if not even that, stop here.
                capacity = next.Tokens.Count + 1;
                if (!Reserve(KvCache.BytesFor(Config, capacity, Model.Model.Device)))
                {
                    Dequeue(next);
                    Finish(next, next.Completion.End(FinishReason.Length));
                    continue;
                }
            }

            var cache = new KvCache(Config, capacity, Model.Model.Device);
            if (_options.PrefixCaching && _prefixes.Longest(next.Tokens, next.Tokens.Count - 1) is { Length: var shared, Cache: var source } && shared >= _options.MinPrefixTokens)
            {
                cache.CopyFrom(source, shared);
                next.Cached = shared;
            }
            if (_options.PrefixCaching && next.Completion.Generated == 0)
                _metrics.ObservePrefixLookup(next.Tokens.Count, next.Cached);
            next.Cache = cache;
            next.AdmittedAt = Stopwatch.GetTimestamp();
            Dequeue(next);
            _running.Add(next);
            if (next.Completion.Generated == 0)
                _metrics.ObserveQueueTime(Stopwatch.GetElapsedTime(next.ArrivedAt));
            _metrics.AddPromptTokens(next.Tokens.Count - next.Cached);
        }
    }

    private void Dequeue(Sequence sequence)
    {
        lock (_lock)
            _waiting.Remove(sequence);
    }

    private void Step()
    {
        foreach (var sequence in _running.ToArray())
            if (sequence.CancelRequested)
                Finish(sequence, sequence.Completion.End(FinishReason.Cancelled));

        // Room for the positions this step writes; the oldest sequences are served first.
        foreach (var sequence in _running.OrderBy(s => s.ArrivedAt).ToArray())
            if (_running.Contains(sequence) && sequence.Cache!.Capacity < sequence.Tokens.Count)
                Grow(sequence);

        var budget = _options.PrefillChunkTokens;
        var sampled = new HashSet<Sequence>();
        foreach (var sequence in _running.Where(s => s.Pending > 1).ToArray())
        {
            if (budget == 0)
                break;
            var chunk = Math.Min(sequence.Pending, budget);
            var tokens = CollectionsMarshal.AsSpan(sequence.Tokens).Slice(sequence.Cached, chunk);
            using var logits = Model.Model.Forward(tokens, sequence.Cached, sequence.Cache!);
            sequence.Cached += chunk;
            budget -= chunk;
            if (sequence.Pending == 0)
            {
                sampled.Add(sequence);
                using var host = logits.cpu();
                Emit(sequence, MemoryMarshal.Cast<byte, float>(host.bytes));
            }
        }

        var decoding = _running.Where(s => s.Pending == 1 && !sampled.Contains(s)).ToArray();
        var vocab = Config.VocabSize;
        foreach (var batch in decoding.Chunk(LlamaModel.MaxStepBatch))
        {
            var tokens = batch.Select(s => s.Tokens[^1]).ToArray();
            var positions = batch.Select(s => s.Tokens.Count - 1).ToArray();
            Model.Model.Step(tokens, positions, batch.Select(s => s.Cache!).ToArray(), _logits);
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i].Cached++;
                Emit(batch[i], _logits.AsSpan(i * vocab, vocab));
            }
        }
    }

    /// <summary>Samples the next token from logits and streams it; finishes the sequence when that ends the reply.</summary>
    private void Emit(Sequence sequence, ReadOnlySpan<float> logits)
    {
        var chunk = sequence.Completion.Advance(logits, out var next);
        _metrics.AddGenerationTokens(1);
        var now = Stopwatch.GetTimestamp();
        if (sequence.Completion.Generated == 1)
            _metrics.ObserveTimeToFirstToken(Stopwatch.GetElapsedTime(sequence.ArrivedAt, now));
        else
            _metrics.ObserveInterTokenLatency(Stopwatch.GetElapsedTime(sequence.LastTokenAt, now));
        sequence.LastTokenAt = now;

        if (next is { } token)
        {
            sequence.Tokens.Add(token);
            sequence.Output.Writer.TryWrite(chunk);
        }
        else
        {
            Finish(sequence, chunk);
        }
    }

    private void Finish(Sequence sequence, GenerationChunk final)
    {
        sequence.Finished = true;
        sequence.Output.Writer.TryWrite(final);
        sequence.Output.Writer.TryComplete();
        _running.Remove(sequence);
        _metrics.ObserveFinished(final.FinishReason!.Value.ToString().ToLowerInvariant(), Stopwatch.GetElapsedTime(sequence.ArrivedAt));
        if (sequence.Cache is not { } cache)
            return;
        sequence.Cache = null;
        if (final.FinishReason != FinishReason.Cancelled && _options.PrefixCaching && sequence.Cached >= _options.MinPrefixTokens)
            _prefixes.Add(sequence.Tokens.Take(sequence.Cached).ToArray(), cache);
        else
            Release(cache);
    }

    private void Fail(Sequence sequence, Exception error)
    {
        sequence.Finished = true;
        sequence.Output.Writer.TryComplete(error);
        _running.Remove(sequence);
        if (sequence.Cache is { } cache)
            Release(cache);
        sequence.Cache = null;
    }

    /// <summary>A bigger cache for a sequence that filled its own; preempts the youngest others if memory is short.</summary>
    private void Grow(Sequence sequence)
    {
        var capacity = Math.Min(Config.MaxPositionEmbeddings, sequence.Tokens.Count + _options.CacheGrowthTokens);
        var extra = KvCache.BytesFor(Config, capacity, Model.Model.Device) - sequence.Cache!.Bytes;
        while (!Reserve(extra))
        {
            if (_running.Where(s => s != sequence).MaxBy(s => s.ArrivedAt) is { } youngest)
            {
                Preempt(youngest);
                continue;
            }
            // Alone and the full growth does not fit: grow by what the next token needs.
            capacity = sequence.Tokens.Count;
            extra = KvCache.BytesFor(Config, capacity, Model.Model.Device) - sequence.Cache.Bytes;
            if (Reserve(extra))
                break;
            Preempt(sequence); // not even that: it waits, recomputed once memory frees
            return;
        }
        var grown = new KvCache(Config, capacity, Model.Model.Device);
        grown.CopyFrom(sequence.Cache, sequence.Cached);
        sequence.Cache.Dispose();
        sequence.Cache = grown;
    }

    /// <summary>Frees a running sequence's cache and puts it first in line; its tokens so far are recomputed on return.</summary>
    private void Preempt(Sequence sequence)
    {
        _running.Remove(sequence);
        Release(sequence.Cache!);
        sequence.Cache = null;
        sequence.Cached = 0;
        lock (_lock)
            _waiting.AddFirst(sequence);
        _metrics.AddPreemption();
    }

    /// <summary>Claims KV memory, evicting cached prefixes (oldest first) as needed.</summary>
    private bool Reserve(long bytes)
    {
        while (KvBytesInUse + bytes > _options.KvCacheBytes)
        {
            if (_prefixes.EvictOldest() is not { } evicted)
                return false;
            Release(evicted);
        }
        Interlocked.Add(ref _kvBytes, bytes);
        return true;
    }

    private void Release(KvCache cache)
    {
        Interlocked.Add(ref _kvBytes, -cache.Bytes);
        cache.Dispose();
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Release();
        _thread.Join();
        var error = new EngineUnavailableException($"model {Model.Name} is shutting down");
        foreach (var sequence in _running.ToArray())
            Fail(sequence, error);
        lock (_lock)
            foreach (var sequence in _waiting)
                sequence.Output.Writer.TryComplete(error);
        while (_prefixes.EvictOldest() is { } cache)
            Release(cache);
    }
}
