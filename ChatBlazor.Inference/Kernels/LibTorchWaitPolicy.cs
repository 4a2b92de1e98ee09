using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// Makes LibTorch's OpenMP workers sleep, rather than spin, between parallel regions.
/// </summary>
/// <remarks>
/// <para>The matrix products run on <see cref="KernelThreads"/>; LibTorch keeps the short operations between
/// them (norms, rotary, attention, activations). With libgomp's default wait policy its workers spin for a
/// while after each of those, on the very cores our products are about to use. On the 2-core test machine,
/// loaded by other work (load average 6–18), a 256-token smol135 prefill ran at 11–77 tokens/s with the default
/// policy and 95–417 with OMP_WAIT_POLICY=PASSIVE (same binary, runs alternated); with LibTorch doing the
/// products too, 14–57 against 95–286. Not yet measured on a quiet machine.</para>
/// <para>libgomp reads the variable once, when LibTorch is loaded, and .NET's Environment.SetEnvironmentVariable
/// does not reach the native environment on Unix, so it is set with libc's setenv as this assembly loads:
/// before any of its code can touch TorchSharp. A value the user set is kept.</para>
/// </remarks>
internal static partial class LibTorchWaitPolicy
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Must run before LibTorch loads, whichever host loads this engine.")]
    internal static void PreferSleepingWorkers()
    {
        if (OperatingSystem.IsLinux())
            SetEnvironment("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
    }

    // "libc.so.6", not "libc": on glibc systems libc.so is a linker script that dlopen cannot load.
    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);
}
