using System.Text.Json;
using ChatBlazor.Inference.Models;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Tests.Models;

/// <summary>The block pool and block tables of <see cref="KvCache"/>, and attention reading them, on F32 and BF16 keys and values.</summary>
public class KvBlocksTests
{
    private static ModelConfig Config(string model = "tiny-f32") => ModelConfig.Load(Path.Combine(GoldenModelTests.FixturePath(model), "config.json"));

    private static float[] Filled(int d, float value) => Enumerable.Range(0, d).Select(i => value + i).ToArray();

    [Fact]
    public void SharedBlocksAreCountedCopiedOnTheFirstWriteIntoThemAndAllReturnToThePool()
    {
        var config = Config();
        var d = config.HeadDim;
        using var pool = new KvBlockPool(config, 8, KvType.F32, CPU);
        var owner = new KvCache(pool);
        Assert.True(owner.TryGrow(40)); // 3 blocks of 16
        Assert.Equal(5, pool.Free);
        for (var position = 0; position < 40; position++)
            for (var layer = 0; layer < config.NumLayers; layer++)
                owner.Write(layer, 1, position, Filled(d, position), Filled(d, -position));

        var sharer = new KvCache(pool);
        sharer.Share(owner, 37);
        Assert.Equal(owner.Blocks, sharer.Blocks);
        Assert.Equal(5, pool.Free);
        Assert.All(owner.Blocks, block => Assert.Equal(2, pool.References(block)));

        // The first write past the shared positions lands in the partial third block: only that one is copied.
        Assert.True(sharer.TryGrow(48));
        Assert.Equal(1, sharer.SharedBlocksIn(37, 48));
        sharer.PrepareWrite(37, 38);
        Assert.Equal(4, pool.Free);
        Assert.Equal(owner.Blocks.Take(2), sharer.Blocks.Take(2));
        Assert.NotEqual(owner.Blocks[2], sharer.Blocks[2]);
        Assert.Equal((1, 1), (pool.References(owner.Blocks[2]), pool.References(sharer.Blocks[2])));
        for (var layer = 0; layer < config.NumLayers; layer++)
            Assert.Equal(owner.Read(layer, 1, 1, 36), sharer.Read(layer, 1, 1, 36)); // every layer was copied
        sharer.Write(0, 1, 37, Filled(d, 1000), Filled(d, 2000));
        Assert.Equal(Filled(d, 1000), sharer.Read(0, 0, 1, 37));
        Assert.Equal(Filled(d, 37), owner.Read(0, 0, 1, 37));
        sharer.PrepareWrite(38, 48); // already private: nothing more is copied
        Assert.Equal(4, pool.Free);

        Assert.False(sharer.TryGrow(16 * 9)); // more than the pool holds: takes nothing
        Assert.Equal(4, pool.Free);
        sharer.Dispose();
        Assert.Equal(5, pool.Free); // the first two blocks are still the owner's
        owner.Truncate(20);
        Assert.Equal(6, pool.Free);
        owner.Dispose();
        Assert.Equal(8, pool.Free);
        Assert.Throws<InvalidOperationException>(() => pool.Release(0));
    }

    [Fact]
    public void Bf16BlocksRoundToNearestEvenAsLibTorchDoes()
    {
        var config = Config();
        var d = config.HeadDim;
        using var cache = new KvCache(config, 1, CPU, KvType.Bf16);
        var values = Enumerable.Range(0, d).Select(i => (float)Math.Sin(i * 1.37) * 3.3f + (i == 3 ? 1.00390625f : 0)).ToArray(); // one exact tie
        cache.Write(1, 0, 0, values, values);
        using var expected = tensor(values).to(ScalarType.BFloat16).to(ScalarType.Float32);
        Assert.Equal(expected.data<float>().ToArray(), cache.Read(1, 0, 0, 0));
    }

    public static TheoryData<KvType> Types() => new(KvType.F32, KvType.F16, KvType.Bf16);

    /// <summary>
    /// Blocked attention against a plain float64 one over the full score matrix, on a 2,000-token prompt in one pass
    /// and as a later chunk, with grouped-query heads. The reference reads the keys and values as stored (16-bit for a
    /// 16-bit cache), so both compute the same function; what differs is F32 accumulation and summation order.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void BlockedAttentionOverALongPromptEqualsAPlainReference(KvType type)
    {
        var config = Config("tiny4-gqa-v2048");
        var (heads, kvHeads, d, length) = (config.NumHeads, config.NumKvHeads, config.HeadDim, 2000);
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var generator = new TorchSharp.torch.Generator(7);
        var q = randn([heads, length, d], generator: generator) / Math.Sqrt(d);
        var k = randn([kvHeads, length, d], generator: generator) * 2; // scores of a few units: the softmax is far from uniform
        var v = randn([kvHeads, length, d], generator: generator);
        using var cache = new KvCache(config, length, CPU, type);
        for (var layer = 0; layer < config.NumLayers; layer++)
            cache.Append(layer, 0, k, v);
        var stored = type switch { KvType.Bf16 => ScalarType.BFloat16, KvType.F16 => ScalarType.Float16, _ => ScalarType.Float32 };
        var (storedK, storedV) = (k.to(stored), v.to(stored));

        foreach (var start in new[] { 0, 1203 })
        {
            var t = length - start;
            var queries = q.narrow(1, start, t);
            var actual = BlockAttention.Prefill(queries, cache, config.NumLayers - 1, start);

            var group = heads / kvHeads;
            var keys = storedK.to(ScalarType.Float64).repeat_interleave(group, 0);
            var values = storedV.to(ScalarType.Float64).repeat_interleave(group, 0);
            var scores = matmul(queries.to(ScalarType.Float64), keys.transpose(1, 2));                   // (H, T, L)
            var hidden = arange(length).unsqueeze(0) > arange(start, length).unsqueeze(1);            // key after query
            var expected = matmul(scores.masked_fill(hidden, double.NegativeInfinity).softmax(-1), values) // (H, T, D)
                .transpose(0, 1).reshape(t, heads * d);
            var worst = (actual.to(ScalarType.Float64) - expected).abs().max().item<double>();
            Assert.True(worst <= 1e-5, $"start {start}: largest difference {worst}");
        }
    }

    private sealed record Case(string name, int[] prompt, int[] greedy);
    private sealed record Expected(Case[] cases);

    private static Case[] Cases(string model) =>
        JsonSerializer.Deserialize<Expected>(File.ReadAllText(Path.Combine(GoldenModelTests.FixturePath(model), "expected.json")))!.cases;

    public static TheoryData<string, KvType> ModelsAndHalfTypes()
    {
        var data = new TheoryData<string, KvType>();
        foreach (var model in Directory.GetDirectories(GoldenModelTests.FixturePath()).Select(Path.GetFileName))
        {
            data.Add(model!, KvType.F16);
            data.Add(model!, KvType.Bf16);
        }
        return data;
    }

    /// <summary>
    /// 16-bit keys and values against the fixtures' greedy runs, fed the reference's tokens: how far the logits move
    /// from the F32 cache's (which matches the reference within 1e-3, GoldenModelTests), and whether the greedy token
    /// stays where the top two are further apart than the logits can move. F16 (11 significant bits) moved these
    /// logits (5–7 units) by at most 0.0043 when measured, so it is held to 5e-3 (under 0.1% of a logit); BF16
    /// (8 significant bits, 8× coarser) by up to 0.061, enough to flip a near-tie (one fixture step has a top-2 gap of
    /// 0.0027), so it is held to 0.1.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModelsAndHalfTypes))]
    public void SixteenBitKeysAndValuesStayCloseToF32OnTheFixtures(string model, KvType type)
    {
        var llama = LlamaModel.Load(GoldenModelTests.FixturePath(model));
        var tolerance = type == KvType.F16 ? 5e-3f : 0.1f;
        var worst = 0f;
        foreach (var c in Cases(model))
        {
            using var f32 = new KvCache(llama.Config, c.prompt.Length + c.greedy.Length, llama.Device, KvType.F32);
            using var half = new KvCache(llama.Config, c.prompt.Length + c.greedy.Length, llama.Device, type);
            using var f32Prefill = llama.Forward(c.prompt, 0, f32);
            using var halfPrefill = llama.Forward(c.prompt, 0, half);
            var (exact, rounded) = (f32Prefill.data<float>().ToArray(), halfPrefill.data<float>().ToArray());
            for (var step = 0; step < c.greedy.Length; step++)
            {
                worst = Math.Max(worst, exact.Zip(rounded, (a, b) => Math.Abs(a - b)).Max());
                var top2 = exact.Order().TakeLast(2).ToArray();
                if (top2[1] - top2[0] > 2 * tolerance)
                    Assert.Equal(c.greedy[step], Array.IndexOf(rounded, rounded.Max()));
                if (step == c.greedy.Length - 1)
                    break;
                llama.Step(c.greedy[step], c.prompt.Length + step, f32, exact);
                llama.Step(c.greedy[step], c.prompt.Length + step, half, rounded);
            }
        }
        Assert.True(worst <= tolerance, $"largest logit difference from the F32 cache {worst}");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void ABatchedStepOverBlocksGivesEachSequenceTheLogitsItGetsAlone(KvType type)
    {
        var llama = LlamaModel.Load(GoldenModelTests.FixturePath("tiny4-gqa-v2048"));
        var vocab = llama.Config.VocabSize;
        var random = new Random(5);
        // 300 and 600 run past one decoding stretch (BlockAttention.StepStretch): attended in parts and merged.
        int[][] prompts = [.. new[] { 3, 17, 300, 600 }.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray())];
        // All in one pool, so the batch reads blocks scattered through it.
        using var pool = new KvBlockPool(llama.Config, 64, type, llama.Device);
        var caches = prompts.Select(_ => new KvCache(pool)).ToArray();
        var aloneCaches = prompts.Select(p => new KvCache(llama.Config, p.Length + 1, llama.Device, type)).ToArray();
        try
        {
            for (var i = 0; i < prompts.Length; i++)
            {
                Assert.True(caches[i].TryGrow(prompts[i].Length + 1));
                llama.Forward(prompts[i], 0, caches[i]).Dispose();
                llama.Forward(prompts[i], 0, aloneCaches[i]).Dispose();
            }
            var tokens = prompts.Select(p => p[0]).ToArray();
            var positions = prompts.Select(p => p.Length).ToArray();
            var batched = new float[prompts.Length * vocab];

            llama.Step(tokens, positions, caches, batched);

            for (var i = 0; i < prompts.Length; i++)
            {
                var alone = new float[vocab];
                llama.Step(tokens[i], positions[i], aloneCaches[i], alone);
                var worst = alone.Zip(batched.AsSpan(i * vocab, vocab).ToArray(), (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-4, $"sequence {i}: largest logit difference {worst}");
            }
        }
        finally
        {
            foreach (var cache in caches.Concat(aloneCaches))
                cache.Dispose();
        }
    }

    /// <summary>
    /// A second sequence that shares the first's blocks for a prefix (the last one partial) and goes on from there
    /// gets the logits of recomputing everything, and its writes leave the first sequence's cache as it was.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void SharingAPrefixsBlocksGivesTheLogitsOfRecomputingAndLeavesTheOwnerUntouched(KvType type)
    {
        var llama = LlamaModel.Load(GoldenModelTests.FixturePath("tiny-f32"));
        var vocab = llama.Config.VocabSize;
        var random = new Random(11);
        var tokens = Enumerable.Range(0, 100).Select(_ => random.Next(vocab)).ToArray();
        using var pool = new KvBlockPool(llama.Config, 32, type, llama.Device);
        using var owner = new KvCache(pool);
        Assert.True(owner.TryGrow(71));
        llama.Forward(tokens.AsSpan(0, 70), 0, owner).Dispose();

        using var sharer = new KvCache(pool);
        sharer.Share(owner, 50);
        Assert.True(sharer.TryGrow(100));
        var free = pool.Free;
        using var shared = llama.Forward(tokens.AsSpan(50), 50, sharer, lastOnly: false);
        Assert.Equal(free - 1, pool.Free); // the partial block 48..63 was copied on the first write, nothing else
        using var fresh = new KvCache(llama.Config, 100, llama.Device, type);
        using var recomputed = llama.Forward(tokens, 0, fresh, lastOnly: false);
        for (var position = 50; position < 100; position++)
        {
            var worst = recomputed[position].data<float>().ToArray().Zip(shared[position - 50].data<float>().ToArray(), (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-4, $"position {position}: largest logit difference {worst}");
        }

        using var unshared = new KvCache(llama.Config, 71, llama.Device, type);
        llama.Forward(tokens.AsSpan(0, 70), 0, unshared).Dispose();
        var (ownerLogits, unsharedLogits) = (new float[vocab], new float[vocab]);
        llama.Step(tokens[70], 70, owner, ownerLogits);
        llama.Step(tokens[70], 70, unshared, unsharedLogits);
        Assert.Equal(unsharedLogits, ownerLogits);
    }

    /// <summary>A 2,000-token prompt: in one pass, in chunks, and decoded on from there, through the blocked attention.</summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void ALongPromptInOnePassEqualsItInChunksAndDecodingGoesOnFromIt(KvType type)
    {
        var llama = LlamaModel.Load(GoldenModelTests.FixturePath("tiny4-gqa-v2048"));
        var random = new Random(3);
        var tokens = Enumerable.Range(0, 2001).Select(_ => random.Next(llama.Config.VocabSize)).ToArray();
        using var whole = new KvCache(llama.Config, 2001, llama.Device, type);
        using var wholeLogits = llama.Forward(tokens.AsSpan(0, 2000), 0, whole, lastOnly: false);
        using var chunked = new KvCache(llama.Config, 2001, llama.Device, type);
        using var first = llama.Forward(tokens.AsSpan(0, 777), 0, chunked, lastOnly: false);
        using var second = llama.Forward(tokens.AsSpan(777, 1223), 777, chunked, lastOnly: false);
        foreach (var position in new[] { 0, 15, 16, 776, 777, 1999 })
        {
            var chunk = position < 777 ? first[position] : second[position - 777];
            var worst = (wholeLogits[position] - chunk).abs().max().item<float>();
            Assert.True(worst <= 1e-4, $"position {position}: largest logit difference {worst}");
        }

        var stepped = new float[llama.Config.VocabSize];
        llama.Step(tokens[2000], 2000, whole, stepped);
        using var forward = llama.Forward([tokens[2000]], 2000, chunked);
        var difference = forward.data<float>().ToArray().Zip(stepped, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(difference <= 1e-4, $"decoding at 2000: largest logit difference {difference}");
    }
}
