using TorchSharp;

namespace ChatBlazor.Inference.Tests;

/// <summary>
/// Guards build/TorchSharpNative.targets: on a libstdc++ without GLIBCXX_3.4.32 the build swaps in a
/// patched libLibTorchSharp.so; TorchSharp must load that one, not a copy of its own (Linux only).
/// </summary>
public class NativeLoadTests
{
    [Fact]
    public void TorchSharpLoadsTheNativeLibraryTheBuildPutInRuntimesNotAFallbackCopy()
    {
        using (torch.NewDisposeScope())
            torch.ones(1).sum();

        var mapped = File.ReadAllLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6)
            .Select(fields => fields[5].Trim())
            .Distinct()
            .ToList();
        var nativeFolder = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");

        // When it cannot load them from runtimes/, TorchSharp copies the package's natives into cpu/ and
        // tries those instead.
        var libTorchSharp = Assert.Single(mapped, path => Path.GetFileName(path) == "libLibTorchSharp.so");
        Assert.Equal(nativeFolder, Path.GetDirectoryName(libTorchSharp));

        // The build adds this shim only when it patched the library, and only the patched library needs it.
        var shim = Path.Combine(nativeFolder, "libtorchsharp-glibcxx-shim.so");
        if (File.Exists(shim))
            Assert.Contains(shim, mapped);
    }
}
