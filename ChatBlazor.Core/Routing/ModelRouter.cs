using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// One engine made of several: the embedded one and any remote hosts, each serving its own models. A request goes
/// to the engine that serves its model; callers never know where that is. Engines join and leave at run time (a host
/// an admin adds or removes), and an engine's own list may change (a model loaded or unloaded).
/// </summary>
public sealed class ModelRouter : IInferenceEngine
{
    private readonly Lock _lock = new();
    private IInferenceEngine[] _engines = [];

    public ModelRouter(IEnumerable<IInferenceEngine> engines)
    {
        foreach (var engine in engines)
            Add(engine);
    }

    public IReadOnlyList<ModelInfo> Models => [.. Volatile.Read(ref _engines).SelectMany(e => e.Models)];

    /// <summary>Adds an engine; its models must not already be served here.</summary>
    public void Add(IInferenceEngine engine)
    {
        lock (_lock)
        {
            var served = _engines.SelectMany(e => e.Models).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var model in engine.Models)
                if (served.Contains(model.Name) || !seen.Add(model.Name))
                    throw new InvalidOperationException($"model '{model.Name}' is served by two engines; give each model one name");
            _engines = [.. _engines, engine];
        }
    }

    /// <summary>Removes an engine: requests already running on it finish, new ones for its models are not found.</summary>
    public bool Remove(IInferenceEngine engine)
    {
        lock (_lock)
        {
            var before = _engines.Length;
            _engines = [.. _engines.Where(e => !ReferenceEquals(e, engine))];
            return _engines.Length != before;
        }
    }

    public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) => EngineOf(model).TokenizeChat(model, messages);

    public TokenizedPrompt Tokenize(string model, string text) => EngineOf(model).Tokenize(model, text);

    private IInferenceEngine EngineOf(string model) =>
        Volatile.Read(ref _engines).FirstOrDefault(e => e.Models.Any(m => m.Name == model)) ?? throw new ModelNotFoundException(model);

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var engine = EngineOf(request.Model);
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken))
            yield return chunk;
    }
}
