using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Contracts;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// One engine made of several: the embedded one and any remote hosts. A request goes to an engine that serves its
/// model; callers never know where that is. Several engines may serve one model name (replicas: inference hosts
/// running the same model): each request takes the next of them in turn (round robin per model, which spreads
/// evenly without knowing their load), and when that one fails before its first chunk because it is down or full
/// (<see cref="EngineUnavailableException"/>, <see cref="EngineOverloadedException"/>), the request goes on to the
/// next replica, and that one goes to the back of the line for <see cref="SetBackFor"/>. Once a chunk has gone to the caller, an error is the caller's, as with one engine: the reply-job layer
/// continues a reply cut off mid-way. Engines join and leave at run time (a host an admin adds or removes), and an
/// engine's own list may change (a model loaded or unloaded).
/// </summary>
public sealed class ModelRouter : IInferenceEngine
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, StrongBox<int>> _turns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IInferenceEngine, DateTimeOffset> _failedAt = new(ReferenceEqualityComparer.Instance);
    private readonly ILogger? _log;
    private readonly TimeProvider _clock;
    private IInferenceEngine[] _engines = [];

    /// <summary>
    /// How long a replica that failed before its first chunk is tried after the others: a host that is down costs
    /// one failed attempt (or, when it hangs, one read timeout) per period rather than every Nth request, and one that
    /// is back gets its turns again soon after.
    /// </summary>
    public static readonly TimeSpan SetBackFor = TimeSpan.FromSeconds(10);

    /// <param name="log">Where a failover is noted (none in tests that do not look).</param>
    public ModelRouter(IEnumerable<IInferenceEngine> engines, ILogger<ModelRouter>? log = null, TimeProvider? clock = null)
    {
        (_log, _clock) = (log, clock ?? TimeProvider.System);
        foreach (var engine in engines)
            Add(engine);
    }

    /// <summary>Every model once, as its first engine describes it (replicas serve the same model).</summary>
    public IReadOnlyList<ModelInfo> Models => [.. Volatile.Read(ref _engines).SelectMany(e => e.Models).DistinctBy(m => m.Name, StringComparer.Ordinal)];

    /// <summary>Adds an engine; a model it serves that another engine serves too becomes a replica of it.</summary>
    public void Add(IInferenceEngine engine)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in engine.Models)
            if (!seen.Add(model.Name))
                throw new InvalidOperationException($"model '{model.Name}' is listed twice by one engine; give each model one name");
        lock (_lock)
            _engines = [.. _engines, engine];
    }

    /// <summary>Removes an engine: requests already running on it finish, new ones go to the other replicas or are not found.</summary>
    public bool Remove(IInferenceEngine engine)
    {
        lock (_lock)
        {
            var before = _engines.Length;
            _engines = [.. _engines.Where(e => !ReferenceEquals(e, engine))];
            _failedAt.TryRemove(engine, out _);
            return _engines.Length != before;
        }
    }

    /// <summary>The engines serving <paramref name="model"/>.</summary>
    public IReadOnlyList<IInferenceEngine> EnginesOf(string model) => [.. Volatile.Read(ref _engines).Where(e => e.Models.Any(m => m.Name == model))];

    // Any replica: they run the same model, so they tokenize alike.
    public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) => FirstOf(model).TokenizeChat(model, messages);

    public TokenizedPrompt Tokenize(string model, string text) => FirstOf(model).Tokenize(model, text);

    private IInferenceEngine FirstOf(string model) =>
        Volatile.Read(ref _engines).FirstOrDefault(e => e.Models.Any(m => m.Name == model)) ?? throw new ModelNotFoundException(model);

    /// <summary>
    /// The replicas in the order this request tries them: starting at the model's next turn and wrapping around, those
    /// set back after a failure last.
    /// </summary>
    private IInferenceEngine[] TurnOrder(string model)
    {
        var replicas = EnginesOf(model);
        if (replicas.Count == 0)
            throw new ModelNotFoundException(model);
        if (replicas.Count == 1)
            return [replicas[0]];
        var turn = Interlocked.Increment(ref _turns.GetOrAdd(model, _ => new StrongBox<int>(-1)).Value);
        var first = (int)((uint)turn % (uint)replicas.Count); // unsigned: the counter wraps to negative after 2^31 requests
        IInferenceEngine[] turns = [.. replicas.Skip(first), .. replicas.Take(first)];
        var now = _clock.GetUtcNow();
        bool SetBack(IInferenceEngine e) => _failedAt.TryGetValue(e, out var failed) && now - failed < SetBackFor;
        return [.. turns.Where(e => !SetBack(e)), .. turns.Where(SetBack)];
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var replicas = TurnOrder(request.Model);
        (IAsyncEnumerator<GenerationChunk> Stream, bool Any)? started = null;
        for (var i = 0; started is null; i++)
            started = await StartAsync(replicas[i], request, last: i == replicas.Length - 1, cancellationToken);
        var (stream, any) = started.Value;
        await using (stream)
        {
            for (; any; any = await stream.MoveNextAsync())
                yield return stream.Current;
        }
    }

    /// <summary>
    /// The engine's stream, moved to its first chunk (Any: it had one); null when it failed as a replica may (down,
    /// full) and another remains to try.
    /// </summary>
    private async Task<(IAsyncEnumerator<GenerationChunk>, bool)?> StartAsync(IInferenceEngine engine, CompletionRequest request, bool last, CancellationToken cancellationToken)
    {
        var stream = engine.GenerateAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            var started = (stream, await stream.MoveNextAsync());
            _failedAt.TryRemove(engine, out _);
            return started;
        }
        catch (Exception e) when (e is EngineUnavailableException or EngineOverloadedException && !cancellationToken.IsCancellationRequested)
        {
            _failedAt[engine] = _clock.GetUtcNow();
            await stream.DisposeAsync();
            if (last)
                throw;
            _log?.LogWarning("Model {Model}: a replica failed before its first chunk ({Error}); trying the next", request.Model, e.Message);
            return null;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }
}
