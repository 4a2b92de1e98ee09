using ChatBlazor.Inference.Moderation;

namespace ChatBlazor.Inference.Tests.Moderation;

/// <summary>One loaded classifier (~1 s, ~100 MB) shared by a test class.</summary>
public sealed class ClassifierFixture : IDisposable
{
    public MiniLmModerationClassifier Classifier { get; } = MiniLmModerationClassifier.LoadShipped();

    public void Dispose() => Classifier.Dispose();
}
