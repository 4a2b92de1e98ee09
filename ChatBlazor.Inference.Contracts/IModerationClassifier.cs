namespace ChatBlazor.Inference.Contracts;

/// <summary>
/// A text classifier for moderation: a score in [0, 1] per category it knows (OpenAI's category names, e.g.
/// <c>violence</c>, <c>self-harm/intent</c>, and <c>jailbreak</c>). CPU-bound and synchronous: a few milliseconds a message.
/// </summary>
public interface IModerationClassifier
{
    /// <summary>The categories <see cref="Score"/> answers for.</summary>
    IReadOnlyList<string> Categories { get; }

    IReadOnlyDictionary<string, float> Score(string text);
}
