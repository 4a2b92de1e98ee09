using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ChatBlazor.Inference.Kernels;
using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace ChatBlazor.Inference.Models;

/// <summary>
/// Attention that reads keys and values straight from a sequence's blocks (<see cref="KvCache"/>), F32, BF16 or F16,
/// computing in F32. Queries come pre-scaled by 1/√D. The G query heads that share a key head go together, so each
/// key and value row is read once for all of them.
/// </summary>
internal static unsafe class BlockAttention
{
    /// <summary>Queries per prefill work item: with G heads, a G·16 × BlockSize score tile stays in L1.</summary>
    public const int QueryTile = 16;

    /// <summary>Where a sequence's blocks are: block b of the table starts at Base + Blocks[b] × BlockStride elements.</summary>
    public readonly struct Table(byte* pool, int* blocks, long blockStride, long keyOffset, long valueOffset, long headStride, int blockSize, KvType type)
    {
        public readonly byte* Pool = pool;
        public readonly int* Blocks = blocks;
        public readonly long BlockStride = blockStride, KeyOffset = keyOffset, ValueOffset = valueOffset, HeadStride = headStride;
        public readonly int BlockSize = blockSize;
        public readonly KvType Type = type;

        public byte* Keys(int block, int head) => Pool + (Blocks[block] * BlockStride + KeyOffset + head * HeadStride) * (Type == KvType.F32 ? 4 : 2);

        public byte* Values(int block, int head) => Pool + (Blocks[block] * BlockStride + ValueOffset + head * HeadStride) * (Type == KvType.F32 ? 4 : 2);
    }

    public static Table For(KvCache cache, int layer, int* blocks)
    {
        var pool = cache.Pool;
        return new Table(pool.Base, blocks, pool.BlockStride, pool.Offset(layer, 0, 0), pool.Offset(layer, 1, 0),
            pool.Offset(layer, 0, 1) - pool.Offset(layer, 0, 0), pool.BlockSize, pool.Type);
    }

    /// <summary>
    /// scores (G, n) = queries (G, D) · the first n key rows of a block (n, D)ᵀ, on the instruction set the caller
    /// dispatched with (a kernel thread's own <see cref="MatVec.Path"/> may differ where tests force one). F16 keys are
    /// widened into <paramref name="widened"/> (BlockSize × D floats) first: MatVec has no F16 path.
    /// </summary>
    private static void Scores(in Table table, int block, int head, float* queries, float* scores, int n, int d, int g, float* widened, SimdPath path)
    {
        var keys = table.Keys(block, head);
        switch (table.Type)
        {
            case KvType.Bf16:
                MatVec.Multiply(keys, isBf16: true, queries, scores, n, d, g, path, maxThreads: 1);
                break;
            case KvType.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(keys, n * d), new Span<float>(widened, n * d));
                MatVec.Multiply(widened, isBf16: false, queries, scores, n, d, g, path, maxThreads: 1);
                break;
            default:
                MatVec.Multiply(keys, isBf16: false, queries, scores, n, d, g, path, maxThreads: 1);
                break;
        }
    }

    /// <summary>
    /// output (R, D) += p (R, n, row stride pStride) · the first n value rows of a block (n, D).
    /// </summary>
    private static void AddWeightedValues(in Table table, int block, int head, float* p, int pStride, int rows, int n, int d, float* output)
    {
        var values = table.Values(block, head);
        switch (table.Type)
        {
            case KvType.F16: AddWeightedRows<F16Element>(p, pStride, rows, values, n, d, output); break;
            case KvType.Bf16: AddWeightedRows<Bf16Element>(p, pStride, rows, values, n, d, output); break;
            default: AddWeightedRows<F32Element>(p, pStride, rows, values, n, d, output); break;
        }
    }

    /// <summary>
    /// output (R, D) += p (R, n) · values (n, D), values stored as <typeparamref name="TKv"/> and widened in registers.
    /// Up to 4 output rows are kept in registers, two vectors at a time, while all n value rows are added into them,
    /// so each value vector is loaded and widened once for all of them and each output vector is loaded and stored
    /// once per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: straight to optimized code, not tier 0 first
    private static void AddWeightedRows<TKv>(float* p, int pStride, int rows, byte* values, int n, int d, float* output)
        where TKv : IKvElement
    {
        var r = 0;
        for (; r + 4 <= rows; r += 4)
            AddWeightedRows<TKv, Four>(p + (long)r * pStride, pStride, values, n, d, output + (long)r * d);
        switch (rows - r)
        {
            case 3: AddWeightedRows<TKv, Three>(p + (long)r * pStride, pStride, values, n, d, output + (long)r * d); break;
            case 2: AddWeightedRows<TKv, Two>(p + (long)r * pStride, pStride, values, n, d, output + (long)r * d); break;
            case 1: AddWeightedRows<TKv, One>(p + (long)r * pStride, pStride, values, n, d, output + (long)r * d); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddWeightedRows<TKv, TRows>(float* p, int pStride, byte* values, int n, int d, float* o)
        where TKv : IKvElement
        where TRows : ICount
    {
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= d - 2 * width; i += 2 * width)
        {
            Vector<float> a0 = Vector.Load(o + i), b0 = Vector.Load(o + i + width), a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            if (TRows.Value > 1) (a1, b1) = (Vector.Load(o + d + i), Vector.Load(o + d + i + width));
            if (TRows.Value > 2) (a2, b2) = (Vector.Load(o + 2 * d + i), Vector.Load(o + 2 * d + i + width));
            if (TRows.Value > 3) (a3, b3) = (Vector.Load(o + 3 * d + i), Vector.Load(o + 3 * d + i + width));
            for (var j = 0; j < n; j++)
            {
                TKv.Load(values + ((long)j * d + i) * TKv.Size, out var low, out var high);
                var w0 = new Vector<float>(p[j]);
                (a0, b0) = (Vector.MultiplyAddEstimate(low, w0, a0), Vector.MultiplyAddEstimate(high, w0, b0));
                if (TRows.Value > 1)
                {
                    var w1 = new Vector<float>(p[pStride + j]);
                    (a1, b1) = (Vector.MultiplyAddEstimate(low, w1, a1), Vector.MultiplyAddEstimate(high, w1, b1));
                }
                if (TRows.Value > 2)
                {
                    var w2 = new Vector<float>(p[2 * pStride + j]);
                    (a2, b2) = (Vector.MultiplyAddEstimate(low, w2, a2), Vector.MultiplyAddEstimate(high, w2, b2));
                }
                if (TRows.Value > 3)
                {
                    var w3 = new Vector<float>(p[3 * pStride + j]);
                    (a3, b3) = (Vector.MultiplyAddEstimate(low, w3, a3), Vector.MultiplyAddEstimate(high, w3, b3));
                }
            }
            Vector.Store(a0, o + i);
            Vector.Store(b0, o + i + width);
            if (TRows.Value > 1) { Vector.Store(a1, o + d + i); Vector.Store(b1, o + d + i + width); }
            if (TRows.Value > 2) { Vector.Store(a2, o + 2 * d + i); Vector.Store(b2, o + 2 * d + i + width); }
            if (TRows.Value > 3) { Vector.Store(a3, o + 3 * d + i); Vector.Store(b3, o + 3 * d + i + width); }
        }
        for (; i < d; i++)
            for (var j = 0; j < n; j++)
            {
                var value = TKv.ToSingle(values + ((long)j * d + i) * TKv.Size);
                for (var r = 0; r < TRows.Value; r++)
                    o[r * d + i] += p[r * pStride + j] * value;
            }
    }

    /// <summary>
    /// scores[g · stride + j] = queries g (D) · key row j (D), for G query heads and n key rows stored as
    /// <typeparamref name="TKv"/>. Up to 4 heads go together, so each key vector is loaded and widened once for all
    /// of them; the queries stay in L1.
    /// </summary>
    private static void ScoreRows<TKv>(float* queries, int group, byte* keys, int n, int d, float* scores, int stride)
        where TKv : IKvElement
    {
        var g = 0;
        for (; g + 4 <= group; g += 4)
            ScoreRows<TKv, Four>(queries + g * d, keys, n, d, scores + g * stride, stride);
        switch (group - g)
        {
            case 3: ScoreRows<TKv, Three>(queries + g * d, keys, n, d, scores + g * stride, stride); break;
            case 2: ScoreRows<TKv, Two>(queries + g * d, keys, n, d, scores + g * stride, stride); break;
            case 1: ScoreRows<TKv, One>(queries + g * d, keys, n, d, scores + g * stride, stride); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoreRows<TKv, TGroup>(float* q, byte* keys, int n, int d, float* scores, int stride)
        where TKv : IKvElement
        where TGroup : ICount
    {
        var width = Vector<float>.Count;
        for (var j = 0; j < n; j++)
        {
            var key = keys + (long)j * d * TKv.Size;
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var i = 0;
            for (; i <= d - 2 * width; i += 2 * width)
            {
                TKv.Load(key + i * TKv.Size, out var low, out var high);
                a0 = Vector.MultiplyAddEstimate(Vector.Load(q + i + width), high, Vector.MultiplyAddEstimate(Vector.Load(q + i), low, a0));
                if (TGroup.Value > 1) a1 = Vector.MultiplyAddEstimate(Vector.Load(q + d + i + width), high, Vector.MultiplyAddEstimate(Vector.Load(q + d + i), low, a1));
                if (TGroup.Value > 2) a2 = Vector.MultiplyAddEstimate(Vector.Load(q + 2 * d + i + width), high, Vector.MultiplyAddEstimate(Vector.Load(q + 2 * d + i), low, a2));
                if (TGroup.Value > 3) a3 = Vector.MultiplyAddEstimate(Vector.Load(q + 3 * d + i + width), high, Vector.MultiplyAddEstimate(Vector.Load(q + 3 * d + i), low, a3));
            }
            float s0 = Vector.Sum(a0), s1 = Vector.Sum(a1), s2 = Vector.Sum(a2), s3 = Vector.Sum(a3);
            for (; i < d; i++)
            {
                var k = TKv.ToSingle(key + i * TKv.Size);
                s0 += q[i] * k;
                if (TGroup.Value > 1) s1 += q[d + i] * k;
                if (TGroup.Value > 2) s2 += q[2 * d + i] * k;
                if (TGroup.Value > 3) s3 += q[3 * d + i] * k;
            }
            scores[j] = s0;
            if (TGroup.Value > 1) scores[stride + j] = s1;
            if (TGroup.Value > 2) scores[2 * stride + j] = s2;
            if (TGroup.Value > 3) scores[3 * stride + j] = s3;
        }
    }

    // ---- Decoding: one query per sequence, its context split into stretches that run in parallel. ----

    /// <summary>
    /// Positions per decoding work item. A (sequence, key head) pair alone is too coarse a unit: one sequence with
    /// 3 key heads keeps one of two threads idle a third of the time, and at a 2k context that pair is most of the
    /// step. So each pair's context is cut into stretches, attended separately and merged (the split-softmax of
    /// flash-decoding). It depends only on the sequence's own length, so a sequence batched with others is cut
    /// exactly as alone and gets the same output.
    /// </summary>
    public const int StepStretch = 256;

    public readonly struct StepRow(Table table, int length, int firstItem)
    {
        public readonly Table Table = table;
        public readonly int Length = length;
        /// <summary>This sequence's first work item: items firstItem.. are (key head, stretch) pairs, head-major.</summary>
        public readonly int FirstItem = firstItem;

        public int Stretches => (Length + StepStretch - 1) / StepStretch;
    }

    public readonly struct StepJob(StepRow* rows, int rowCount, float* qkv, int qkvWidth, float* attended, int attendedWidth,
        float* scores, float* partials, int kvHeads, int group, int headDim)
    {
        public readonly StepRow* Rows = rows;
        public readonly int RowCount = rowCount;
        public readonly float* Qkv = qkv, Attended = attended, Scores = scores, Partials = partials;
        public readonly int QkvWidth = qkvWidth, AttendedWidth = attendedWidth, KvHeads = kvHeads, Group = group, HeadDim = headDim;

        /// <summary>Floats of one item's partial result: G rows of (maximum, sum, D unnormalised outputs).</summary>
        public int PartialSize => Group * (HeadDim + 2);
    }

    /// <summary>
    /// Decoding attention for a batch: every (sequence, key head, stretch) on the kernel threads, then the stretches
    /// of each pair merged. <paramref name="scores"/> holds G·StepStretch floats per item and
    /// <paramref name="partials"/> G·(D + 2) per item.
    /// </summary>
    public static void Step(StepRow* rows, int rowCount, float* qkv, int qkvWidth, float* attended, int attendedWidth,
        float* scores, float* partials, int kvHeads, int group, int headDim)
    {
        var job = new StepJob(rows, rowCount, qkv, qkvWidth, attended, attendedWidth, scores, partials, kvHeads, group, headDim);
        var last = rows[rowCount - 1];
        KernelThreads.For(last.FirstItem + kvHeads * last.Stretches, &StepItem, &job);
        for (var r = 0; r < rowCount; r++)
            for (var kvHead = 0; kvHead < kvHeads; kvHead++)
                Merge(&job, r, kvHead);
    }

    /// <summary>One (sequence, key head, stretch): its G heads' scores, their maximum, sum and unnormalised output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: straight to optimized code, not tier 0 first
    private static void StepItem(void* state, int item)
    {
        var job = (StepJob*)state;
        var r = job->RowCount - 1;
        while (job->Rows[r].FirstItem > item)
            r--;
        var row = job->Rows[r];
        var (kvHead, stretch) = Math.DivRem(item - row.FirstItem, row.Stretches);
        var (d, group, blockSize) = (job->HeadDim, job->Group, row.Table.BlockSize);
        var first = stretch * StepStretch;
        var length = Math.Min(StepStretch, row.Length - first);
        var scores = job->Scores + (long)item * group * StepStretch; // (G, length), row stride StepStretch
        var partial = job->Partials + (long)item * job->PartialSize;  // G × (maximum, sum), then (G, D)
        var output = partial + 2 * group;
        var queries = job->Qkv + (long)r * job->QkvWidth + kvHead * group * d;

        // The stretch's keys and values into L2 before the first is needed: each block's rows for one head are a few
        // KB apart from the next block's (a block holds every layer and head), too short a run for the hardware
        // prefetcher to catch on to, and decoding evicts them from the caches while it streams the weights. It took
        // a decoding step of the smol135 shape at 300 positions from 7.40 to 6.58 ms (Q8 weights).
        if (Sse.IsSupported)
        {
            var bytes = blockSize * d * (row.Table.Type == KvType.F32 ? 4 : 2);
            for (var p = 0; p < length; p += blockSize)
            {
                byte* k = row.Table.Keys((first + p) / blockSize, kvHead), v = row.Table.Values((first + p) / blockSize, kvHead);
                for (var offset = 0; offset < bytes; offset += 64)
                {
                    Sse.Prefetch1(k + offset);
                    Sse.Prefetch1(v + offset);
                }
            }
        }

        for (var p = 0; p < length; p += blockSize)
        {
            var block = (first + p) / blockSize;
            var n = Math.Min(blockSize, length - p);
            var keys = row.Table.Keys(block, kvHead);
            switch (row.Table.Type)
            {
                case KvType.F16: ScoreRows<F16Element>(queries, group, keys, n, d, scores + p, StepStretch); break;
                case KvType.Bf16: ScoreRows<Bf16Element>(queries, group, keys, n, d, scores + p, StepStretch); break;
                default: ScoreRows<F32Element>(queries, group, keys, n, d, scores + p, StepStretch); break;
            }
        }
        for (var g = 0; g < group; g++)
        {
            // Shift by the maximum before exponentiating: trained models have scores whose exponentials overflow F32.
            var weights = new Span<float>(scores + g * StepStretch, length);
            var maximum = TensorPrimitives.Max(weights);
            TensorPrimitives.Subtract(weights, maximum, weights);
            TensorPrimitives.Exp(weights, weights);
            partial[2 * g] = maximum;
            partial[2 * g + 1] = TensorPrimitives.Sum(weights);
        }
        new Span<float>(output, group * d).Clear();
        for (var p = 0; p < length; p += blockSize)
            AddWeightedValues(row.Table, (first + p) / blockSize, kvHead, scores + p, StepStretch, group, Math.Min(blockSize, length - p), d, output);
    }

    /// <summary>
    /// Sequence r's attended output for key head h: its stretches' outputs, each weighted by its sum of
    /// exponentials after rescaling every stretch to the largest maximum, over the total sum.
    /// </summary>
    private static void Merge(StepJob* job, int r, int kvHead)
    {
        var (row, d, group) = (job->Rows[r], job->HeadDim, job->Group);
        var partials = job->Partials + (long)(row.FirstItem + kvHead * row.Stretches) * job->PartialSize;
        var output = job->Attended + (long)r * job->AttendedWidth + kvHead * group * d;
        for (var g = 0; g < group; g++)
        {
            var maximum = float.NegativeInfinity;
            for (var s = 0; s < row.Stretches; s++)
                maximum = Math.Max(maximum, partials[s * job->PartialSize + 2 * g]);
            var sum = 0f;
            for (var s = 0; s < row.Stretches; s++)
                sum += partials[s * job->PartialSize + 2 * g + 1] * MathF.Exp(partials[s * job->PartialSize + 2 * g] - maximum);
            var target = new Span<float>(output + g * d, d);
            target.Clear();
            for (var s = 0; s < row.Stretches; s++)
            {
                var partial = partials + s * job->PartialSize;
                var stretchOutput = new ReadOnlySpan<float>(partial + 2 * group + g * d, d);
                TensorPrimitives.MultiplyAdd(stretchOutput, MathF.Exp(partial[2 * g] - maximum) / sum, target, target);
            }
        }
    }

    // ---- Prefill: T queries at positions start..start+T-1, online softmax over key blocks. ----

    private readonly struct PrefillJob(Table table, float* queries, float* output, int start, int t, int kvHeads, int group, int headDim, SimdPath path)
    {
        public readonly Table Table = table;
        public readonly float* Queries = queries, Output = output; // (H, T, D) in, (T, H, D) out
        public readonly int Start = start, T = t, KvHeads = kvHeads, Group = group, HeadDim = headDim;
        public readonly SimdPath Path = path;
    }

    /// <summary>
    /// Attention of queries (H, T, D), already scaled by 1/√D, at positions start..start+T-1 over the cache's
    /// positions 0..start+T-1 of a layer (causal); returns (T, H·D) F32. Runs on the kernel threads.
    /// </summary>
    public static Tensor Prefill(Tensor queries, KvCache cache, int layer, int start)
    {
        var config = cache.Pool.Config;
        var (heads, t, d) = ((int)queries.shape[0], (int)queries.shape[1], (int)queries.shape[2]);
        if (heads != config.NumHeads || d != config.HeadDim || start + t > cache.Capacity)
            throw new ArgumentException($"queries {string.Join('x', queries.shape)} at {start} do not fit the model's heads or the cache's {cache.Capacity} positions");
        using var q = queries.contiguous();
        var attended = empty([t, heads * d], ScalarType.Float32);
        var blocks = cache.Blocks.ToArray();
        fixed (int* blockIds = blocks)
        {
            var job = new PrefillJob(For(cache, layer, blockIds), TensorMemory.Pointer<float>(q), TensorMemory.Pointer<float>(attended),
                start, t, config.NumKvHeads, heads / config.NumKvHeads, d, MatVec.Path);
            var tiles = (t + QueryTile - 1) / QueryTile;
            KernelThreads.For(tiles * config.NumKvHeads, &PrefillItem, &job);
        }
        return attended;
    }

    [ThreadStatic] private static float[]? _scratch;

    /// <summary>
    /// Folds one row's scores over a block (n keys, the first <paramref name="visible"/> of them visible) into its
    /// running maximum and sum: the scores become exp(s − new maximum), 0 where hidden, and the factor the row's
    /// output so far must be scaled by is returned. A whole 16-key block goes through two 256-bit vectors; doing it
    /// with five vectorized calls per row and block had cost more than the scores themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Absorb(float* scores, int n, int visible, ref float maximum, ref float sum)
    {
        if (visible <= 0)
        {
            new Span<float>(scores, n).Clear();
            return 1;
        }
        float blockMaximum, scale;
        if (n == 16 && Vector256.IsHardwareAccelerated)
        {
            var (low, high) = (Vector256.Load(scores), Vector256.Load(scores + 8));
            if (visible < 16)
            {
                var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                low = Vector256.ConditionalSelect(Vector256.LessThan(index, Vector256.Create(visible)).AsSingle(), low, Vector256.Create(float.NegativeInfinity));
                high = Vector256.ConditionalSelect(Vector256.LessThan(index + Vector256.Create(8), Vector256.Create(visible)).AsSingle(), high, Vector256.Create(float.NegativeInfinity));
            }
            var largest = Vector256.Max(low, high);
            largest = Vector256.Max(largest, Vector256.Shuffle(largest, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)));
            largest = Vector256.Max(largest, Vector256.Shuffle(largest, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
            largest = Vector256.Max(largest, Vector256.Shuffle(largest, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
            blockMaximum = Math.Max(maximum, largest.ToScalar());
            scale = MathF.Exp(maximum - blockMaximum);
            var shift = Vector256.Create(blockMaximum);
            (low, high) = (Vector256.Exp(low - shift), Vector256.Exp(high - shift));
            low.Store(scores);
            high.Store(scores + 8);
            sum = sum * scale + Vector256.Sum(low + high);
            maximum = blockMaximum;
            return scale;
        }
        var s = new Span<float>(scores, n);
        s[visible..].Clear();
        var seen = s[..visible];
        blockMaximum = Math.Max(maximum, TensorPrimitives.Max(seen));
        scale = MathF.Exp(maximum - blockMaximum);
        maximum = blockMaximum;
        TensorPrimitives.Subtract(seen, blockMaximum, seen);
        TensorPrimitives.Exp(seen, seen);
        sum = sum * scale + TensorPrimitives.Sum(seen);
        return scale;
    }

    /// <summary>
    /// Work item (query tile, key head): G·tq rows of queries against every key block up to the tile's last
    /// position, keeping each row's running maximum m, running sum l and unnormalised output, so no T × L score
    /// matrix is ever built: per block, s = q·k, m' = max(m, s), output and l scale by exp(m − m'), then add exp(s − m').
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: straight to optimized code, not tier 0 first
    private static void PrefillItem(void* state, int item)
    {
        var job = (PrefillJob*)state;
        var (tileIndex, kvHead) = (item / job->KvHeads, item % job->KvHeads);
        var (d, group, blockSize, t) = (job->HeadDim, job->Group, job->Table.BlockSize, job->T);
        var t0 = tileIndex * QueryTile;
        var tq = Math.Min(QueryTile, t - t0);
        var rows = group * tq;
        var size = rows * d + rows * blockSize + rows * d + 2 * rows + blockSize * d;
        if (_scratch is null || _scratch.Length < size)
            _scratch = new float[size];
        fixed (float* scratch = _scratch)
        {
            var queries = scratch;
            var scores = queries + rows * d;
            var output = scores + rows * blockSize;
            var maximum = output + rows * d;
            var sum = maximum + rows;
            var widened = sum + rows;
            // Row g·tq + i is query head kvHead·G + g at position start + t0 + i.
            for (var g = 0; g < group; g++)
                new Span<float>(job->Queries + ((long)(kvHead * group + g) * t + t0) * d, tq * d).CopyTo(new Span<float>(queries + g * tq * d, tq * d));
            new Span<float>(output, rows * d).Clear();
            new Span<float>(maximum, rows).Fill(float.NegativeInfinity);
            new Span<float>(sum, rows).Clear();

            var last = job->Start + t0 + tq - 1; // the tile's last position: no key beyond it is read
            for (var b = 0; b <= last / blockSize; b++)
            {
                var first = b * blockSize;
                var n = Math.Min(blockSize, last - first + 1);
                Scores(job->Table, b, kvHead, queries, scores, n, d, rows, widened, job->Path);
                for (var r = 0; r < rows; r++)
                {
                    var visible = Math.Min(n, job->Start + t0 + r % tq - first + 1); // causal: keys up to the row's own position
                    var scale = Absorb(scores + (long)r * n, n, visible, ref maximum[r], ref sum[r]);
                    if (scale != 1)
                        TensorPrimitives.Multiply(new Span<float>(output + (long)r * d, d), scale, new Span<float>(output + (long)r * d, d));
                }
                AddWeightedValues(job->Table, b, kvHead, scores, n, rows, n, d, output);
            }

            var heads = job->KvHeads * group;
            for (var r = 0; r < rows; r++)
            {
                var (g, i) = (r / tq, r % tq);
                var target = job->Output + ((long)(t0 + i) * heads + kvHead * group + g) * d;
                TensorPrimitives.Multiply(new Span<float>(output + (long)r * d, d), 1 / sum[r], new Span<float>(target, d));
            }
        }
    }
}
