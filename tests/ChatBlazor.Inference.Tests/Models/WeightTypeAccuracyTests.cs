using System.Text.Json;
using ChatBlazor.Inference.Kernels;
using ChatBlazor.Inference.Models;
using Xunit.Abstractions;

namespace ChatBlazor.Inference.Tests.Models;

/// <summary>
/// Models loaded as BF16 or 8-bit against the same checkpoint as stored (which GoldenModelTests holds to the
/// independent reference), decoding the fixtures' greedy runs with our kernels on every instruction set.
/// </summary>
/// <remarks>
/// The tolerances come from the rounding each type does, not from a run. 8 bits put every weight and every input
/// of a product within half a step of its value, a step being 1/127 of its 32-block's largest magnitude: up to 0.8%
/// of a term, and about 1% of a typical output once a row's independent rounding errors add up (a 32-block's
/// largest value is ~2.5 times its typical one). A token passes through a chain of 2 products per layer and the
/// lm_head, 5 to 9 here, whose relative errors add in the worst case: 10% of the logits' scale (the largest |logit|).
/// BF16 keeps 8 mantissa bits on the weights only, a relative 2⁻⁹ each, about a fifth of that: 2%. Where the reference's best
/// token leads the second by more than twice the tolerance, no error within it can change the greedy choice, so the
/// tokens must agree there; elsewhere (random fixtures have near-ties) most steps must still agree.
/// </remarks>
public class WeightTypeAccuracyTests(ITestOutputHelper output)
{
    private sealed record Case(string name, int[] prompt, int[] greedy);
    private sealed record Expected(Case[] cases);

    public static TheoryData<string, SimdPath, WeightType> Cases()
    {
        var data = new TheoryData<string, SimdPath, WeightType>();
        foreach (var model in Directory.GetDirectories(GoldenModelTests.FixturePath()).Select(Path.GetFileName))
            foreach (var path in GoldenModelTests.SupportedPaths())
                foreach (var type in new[] { WeightType.Bf16, WeightType.Q8 })
                    data.Add(model!, path, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GreedyRunsKeepTheirTokensAndLogitsStayClose(string model, SimdPath path, WeightType type)
    {
        using var onPath = MatVec.UsePath(path);
        var dir = GoldenModelTests.FixturePath(model);
        var reference = LlamaModel.Load(dir);
        var converted = LlamaModel.Load(dir, weightType: type);
        var vocab = reference.Config.VocabSize;
        var expected = JsonSerializer.Deserialize<Expected>(File.ReadAllText(Path.Combine(dir, "expected.json")))!;
        var share = type == WeightType.Q8 ? 0.10f : 0.02f;
        var (worst, agree, steps, largest) = (0f, 0, 0, 0f);
        foreach (var c in expected.cases)
        {
            using var referenceCache = new KvCache(reference.Config, c.prompt.Length + c.greedy.Length, reference.Device);
            using var convertedCache = new KvCache(converted.Config, c.prompt.Length + c.greedy.Length, converted.Device);
            var want = new float[vocab];
            var got = new float[vocab];
            using (var r = reference.Forward(c.prompt, 0, referenceCache)) r.data<float>().CopyTo(want);
            using (var g = converted.Forward(c.prompt, 0, convertedCache)) g.data<float>().CopyTo(got);
            for (var step = 0; step < c.greedy.Length; step++)
            {
                var tolerance = share * want.Max(Math.Abs);
                var difference = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
                Assert.True(difference <= tolerance, $"{c.name} step {step}: largest logit difference {difference}, tolerance {tolerance}");
                var best = Array.IndexOf(want, want.Max());
                var same = best == Array.IndexOf(got, got.Max());
                var margin = want.Max() - want.Where((_, i) => i != best).Max();
                Assert.True(same || margin <= 2 * tolerance, $"{c.name} step {step}: greedy token changed though it led by {margin}");
                (worst, largest, agree, steps) = (Math.Max(worst, difference), Math.Max(largest, want.Max(Math.Abs)), agree + (same ? 1 : 0), steps + 1);
                // Both follow the reference's greedy tokens, so a disagreement does not change what comes after.
                reference.Step(c.greedy[step], c.prompt.Length + step, referenceCache, want);
                converted.Step(c.greedy[step], c.prompt.Length + step, convertedCache, got);
            }
        }
        output.WriteLine($"{model} {type} {path}: top-1 {agree}/{steps}, max logit difference {worst}, largest logit {largest}");
        Assert.True(agree >= 0.8 * steps, $"the greedy token agreed on {agree} of {steps} steps");
    }
}
