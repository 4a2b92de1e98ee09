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
/// weight matrix once. Sequences join and leave between steps. KV memory is a pool of blocks sized from the byte
/// budget: caches take blocks as sequences grow; when growth finds none the youngest sequence is preempted and later
/// recomputed, never failed. Finished sequences leave their blocks behind as reusable prefixes, which later
/// sequences share (reference-counted) until the blocks are needed.
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
    private readonly KvBlockPool _pool;
    private long _kvBytes; // the pool's use, published for other threads
    private volatile bool _stopping;

    public Scheduler(LoadedModel model, EngineOptions options, EngineMetrics.ModelMetrics metrics)
    {
        Model = model;
        _options = options;
        _metrics = metrics;
        _logits = new float[LlamaModel.MaxStepBatch * model.Model.Config.VocabSize];
        var blockBytes = KvBlockPool.BytesPerBlock(Config, options.KvType);
        if (options.KvCacheBytes < blockBytes)
            throw new ArgumentException($"KV cache memory of {options.KvCacheBytes} bytes holds no block of {KvBlockPool.DefaultBlockSize} positions of model {model.Name} ({blockBytes} bytes)");
        _pool = new KvBlockPool(Config, (int)Math.Min(int.MaxValue, options.KvCacheBytes / blockBytes), options.KvType, model.Model.Device);
        WarmUp(model.Model, _pool, options.PrefillChunkTokens, _logits);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"scheduler {model.Name}" };
        _thread.Start();
    }

    public LoadedModel Model { get; }

    /// <summary>
    /// A full prefill chunk and a few decoding steps before the model takes requests. The first request would otherwise
    /// pay for compiling the whole path and LibTorch's first-call set-up: 1.1 s instead of 0.58 s to the first token
    /// of a 256-token prompt on the smol135 shape, the worst figure of a whole load test.
    /// </summary>
    private static void WarmUp(LlamaModel model, KvBlockPool pool, int chunkTokens, float[] logits)
    {
        var config = model.Config;
        var length = Math.Min(chunkTokens, config.MaxPositionEmbeddings - 4);
        if (length < 17)
            return; // too small a window to reach the many-row prefill path; nothing worth warming
        var prompt = Enumerable.Range(0, length).Select(i => i % config.VocabSize).ToArray();
        using var cache = new KvCache(pool);
        if (!cache.TryGrow(length + 4))
            return; // a pool this small serves short requests only
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
        if ((prompt.Count + _pool.BlockSize) / _pool.BlockSize > _pool.Blocks)
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

            // A cached prefix's blocks are shared, not copied; a partial last block is copied here, before the
            // first write into it (which is at once: the prompt goes on from there).
            var cache = new KvCache(_pool);
            if (_options.PrefixCaching && _prefixes.Longest(next.Tokens, next.Tokens.Count - 1) is { Length: var shared, Cache: var source } && shared >= _options.MinPrefixTokens)
            {
                cache.Share(source, shared);
                next.Cached = shared;
            }
            var capacity = Math.Min(Config.MaxPositionEmbeddings, next.Tokens.Count + Math.Min(next.Budget - next.Completion.Generated, _options.CacheGrowthTokens));
            if (!Reserve(cache, next.Cached, capacity))
            {
                if (_running.Count > 0)
                {
                    Release(cache, next);
                    return; // wait for running sequences to finish and free memory
                }
                // Alone and still short: room for just the next token, or, if not even that, stop here.
                if (!Reserve(cache, next.Cached, next.Tokens.Count + 1))
                {
                    Release(cache, next);
                    Dequeue(next);
                    Finish(next, next.Completion.End(FinishReason.Length));
                    continue;
                }
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
        if (final.FinishReason != FinishReason.Cancelled && _options.PrefixCaching && sequence.Cached >= _options.MinPrefixTokens)
        {
            cache.Truncate(sequence.Cached); // blocks past what was computed hold nothing to share
            _prefixes.Add(sequence.Tokens.Take(sequence.Cached).ToArray(), cache);
            sequence.Cache = null;
            PublishUsage();
        }
        else
        {
            Release(cache, sequence);
        }
    }

    private void Fail(Sequence sequence, Exception error)
    {
        sequence.Finished = true;
        sequence.Output.Writer.TryComplete(error);
        _running.Remove(sequence);
        if (sequence.Cache is { } cache)
            Release(cache, sequence);
    }

    /// <summary>Appends blocks to a sequence that filled its cache (no copying); preempts the youngest others if the pool is short.</summary>
    private void Grow(Sequence sequence)
    {
        while (!Reserve(sequence.Cache!, sequence.Cached, sequence.Tokens.Count))
        {
            if (_running.Where(s => s != sequence).MaxBy(s => s.ArrivedAt) is { } youngest)
            {
                Preempt(youngest);
                continue;
            }
            Preempt(sequence); // alone and still short: it waits, recomputed once memory frees
            return;
        }
    }

    /// <summary>Frees a running sequence's blocks and puts it first in line; its tokens so far are recomputed on return.</summary>
    private void Preempt(Sequence sequence)
    {
        _running.Remove(sequence);
        Release(sequence.Cache!, sequence);
        lock (_lock)
            _waiting.AddFirst(sequence);
        _metrics.AddPreemption();
    }

    /// <summary>
    /// Gives a cache the blocks for <paramref name="capacity"/> positions and private copies of the shared blocks that
    /// positions from <paramref name="written"/> on would write into, evicting cached prefixes (oldest first) as needed.
    /// </summary>
    private bool Reserve(KvCache cache, int written, int capacity)
    {
        capacity = Math.Max(capacity, cache.Capacity);
        // Recounted after each eviction: evicting the prefix this cache shares makes its blocks private.
        while (_pool.Free < (capacity + _pool.BlockSize - 1) / _pool.BlockSize - cache.Blocks.Count + cache.SharedBlocksIn(written, capacity))
        {
            if (_prefixes.EvictOldest() is not { } evicted)
                return false;
            evicted.Dispose();
        }
        cache.TryGrow(capacity);
        cache.PrepareWrite(written, capacity);
        PublishUsage();
        return true;
    }

    /// <summary>Drops a sequence's references to its blocks: blocks no one else holds return to the pool.</summary>
    private void Release(KvCache cache, Sequence sequence)
    {
        cache.Dispose();
        sequence.Cache = null;
        sequence.Cached = 0;
        PublishUsage();
    }

    private void PublishUsage() => Interlocked.Exchange(ref _kvBytes, _pool.BytesInUse);

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
            cache.Dispose();
        PublishUsage();
        _pool.Dispose();
    }
}
