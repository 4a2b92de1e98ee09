using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ChatBlazor.Inference.Kernels;

namespace ChatBlazor.Inference.Tests.Kernels;

public partial class LibTorchWaitPolicyTests
{
    [Fact]
    public void LoadingTheEngineAsksLibgompForSleepingWorkersUnlessTheUserChoseAPolicy()
    {
        if (!OperatingSystem.IsLinux())
            return; // the policy is only set where LibTorch ships libgomp
        RuntimeHelpers.RunModuleConstructor(typeof(MatMul).Module.ModuleHandle);

        // /proc/self/environ is the environment the process started with, before any setenv.
        var initial = File.ReadAllText("/proc/self/environ").Split('\0')
            .FirstOrDefault(entry => entry.StartsWith("OMP_WAIT_POLICY=", StringComparison.Ordinal))?["OMP_WAIT_POLICY=".Length..];

        Assert.Equal(initial ?? "PASSIVE", Marshal.PtrToStringUTF8(GetEnvironment("OMP_WAIT_POLICY")));
    }

    [LibraryImport("libc.so.6", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnvironment(string name);
}
