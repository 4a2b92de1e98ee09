using TorchSharp;

namespace ChatBlazor.Inference.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void MatmulOfTwoSmallMatricesMatchesTheProductWorkedOutByHand()
    {
        using var scope = torch.NewDisposeScope();

        var a = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var b = torch.tensor(new float[] { 7, 8, 9, 10, 11, 12 }, 3, 2);

        // [1 2 3]   [ 7  8]   [1*7 + 2*9 + 3*11   1*8 + 2*10 + 3*12]   [ 58  64]
        // [4 5 6] x [ 9 10] = [4*7 + 5*9 + 6*11   4*8 + 5*10 + 6*12] = [139 154]
        //           [11 12]
        var product = torch.matmul(a, b);

        Assert.Equal(new long[] { 2, 2 }, product.shape);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, product.data<float>().ToArray());
    }

    [Fact]
    public void DescribeReportsLibTorchRunningOnCpu()
    {
        var description = TorchRuntime.Describe();

        Assert.Contains("on cpu", description);
    }
}
