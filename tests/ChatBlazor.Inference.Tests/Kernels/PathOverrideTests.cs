using ChatBlazor.Inference.Kernels;

namespace ChatBlazor.Inference.Tests.Kernels;

/// <summary>MatVec.UsePath: how tests run the whole engine on one instruction set.</summary>
public class PathOverrideTests
{
    [Fact]
    public async Task OverridingTheKernelPathMovesTheQ8PathWithItAndOnlyInThisFlow()
    {
        var before = Q8MatVec.Path;
        Task<Q8Path> elsewhere;
        using (MatVec.UsePath(SimdPath.Portable))
        {
            Assert.Equal(SimdPath.Portable, MatVec.Path);
            Assert.Equal(Q8Path.Portable, Q8MatVec.Path);
            Assert.Equal(Q8Path.Portable, await Task.Run(() => Q8MatVec.Path)); // tasks it starts follow it
            using (ExecutionContext.SuppressFlow()) // work that does not come from this flow (another test) does not
                elsewhere = Task.Run(() => Q8MatVec.Path);
            Assert.Equal(before, await elsewhere);
        }
        Assert.Equal(before, Q8MatVec.Path);
        Assert.Null(MatVec.PathOverride);
    }
}
