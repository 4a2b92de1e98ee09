using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// One engine made of several: the embedded one and any remote hosts, each serving its own models. A request goes
/// to the engine that serves its model; callers never know where that is.
/// </summary>
public sealed class ModelRouter : IInferenceEngine
{
    private readonly Dictionary<string, IInferenceEngine> _byModel = new(StringComparer.Ordinal);

    public ModelRouter(IEnumerable<IInferenceEngine> engines)
    {
        var models = new List<ModelInfo>();
        foreach (var engine in engines)
            foreach (var model in engine.Models)
            {
                if (!_byModel.TryAdd(model.Name, engine))
                    throw new InvalidOperationException($"model '{model.Name}' is served by two engines; give each model one name");
                models.Add(model);
            }
        Models = models;
    }

    public IReadOnlyList<ModelInfo> Models { get; }

    public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages) => EngineOf(model).TokenizeChat(model, messages);

    public TokenizedPrompt Tokenize(string model, string text) => EngineOf(model).Tokenize(model, text);

    private IInferenceEngine EngineOf(string model) => _byModel.GetValueOrDefault(model) ?? throw new ModelNotFoundException(model);

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var engine = EngineOf(request.Model);
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken))
            yield return chunk;
    }
}
