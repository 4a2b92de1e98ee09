using TorchSharp;

namespace ChatBlazor.Inference;

/// <summary>Facts about the LibTorch runtime this process loaded.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Touches LibTorch once so a broken native install fails here, at start-up, with its real cause,
    /// rather than on the first chat request.
    /// </summary>
    public static string Describe()
    {
        var device = torch.cuda.is_available() ? "cuda" : "cpu";
        return $"LibTorch {torch.__version__} on {device}, {torch.get_num_threads()} threads";
    }
}
