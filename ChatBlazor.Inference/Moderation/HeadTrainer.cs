namespace ChatBlazor.Inference.Moderation;

/// <summary>Settings of <see cref="HeadTrainer"/>; the defaults are what the shipped head was trained with.</summary>
public sealed record HeadTrainingSettings(int Hidden = 64, int Epochs = 20, int BatchSize = 32, float LearningRate = 2e-3f, float WeightDecay = 0.01f);

/// <summary>
/// Trains <see cref="ModerationHead"/> in plain C#: binary cross-entropy per category, mini-batch Adam, fixed seed.
/// A few thousand 384-d rows and ~25k weights train in seconds on one core, so LibTorch would add a native load and
/// nothing else; the same seed and data give the same bytes.
/// </summary>
public static class HeadTrainer
{
    public static ModerationHead Train(float[][] x, bool[][] y, string[] categories, HeadTrainingSettings settings, int seed, Action<int, double>? progress = null)
    {
        var inputs = MiniLmEncoder.Dimensions;
        var hidden = settings.Hidden;
        var classes = categories.Length;
        var random = new Random(seed);
        // He initialisation for the ReLU layer, small for the output.
        var w1 = Init(hidden * inputs, MathF.Sqrt(2f / inputs), random);
        var w2 = Init(classes * hidden, MathF.Sqrt(1f / hidden), random);
        var b1 = new float[hidden];
        var b2 = new float[classes];
        var head = new ModerationHead
        {
            Version = ModerationHead.FormatVersion, Encoder = "all-MiniLM-L6-v2", Categories = categories,
            Thresholds = categories.ToDictionary(c => c, _ => 0.5f), Hidden = hidden, W1 = w1, B1 = b1, W2 = w2, B2 = b2,
        };
        var adam = new[] { new Adam(w1.Length), new Adam(b1.Length), new Adam(w2.Length), new Adam(b2.Length) };
        var g1 = new float[w1.Length];
        var gb1 = new float[b1.Length];
        var g2 = new float[w2.Length];
        var gb2 = new float[b2.Length];
        var order = Enumerable.Range(0, x.Length).ToArray();
        var h = new float[hidden];
        var dh = new float[hidden];
        var step = 0;
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            random.Shuffle(order);
            double loss = 0;
            for (var start = 0; start < order.Length; start += settings.BatchSize)
            {
                Array.Clear(g1); Array.Clear(gb1); Array.Clear(g2); Array.Clear(gb2);
                var end = Math.Min(start + settings.BatchSize, order.Length);
                for (var i = start; i < end; i++)
                {
                    var row = x[order[i]];
                    var labels = y[order[i]];
                    head.Forward(row, h, out var p);
                    Array.Clear(dh);
                    for (var c = 0; c < classes; c++)
                    {
                        var target = labels[c] ? 1f : 0f;
                        loss -= target * Math.Log(Math.Max(p[c], 1e-7)) + (1 - target) * Math.Log(Math.Max(1 - p[c], 1e-7));
                        var dz = p[c] - target; // d(BCE)/d(logit)
                        gb2[c] += dz;
                        for (var k = 0; k < hidden; k++)
                        {
                            g2[c * hidden + k] += dz * h[k];
                            dh[k] += dz * w2[c * hidden + k];
                        }
                    }
                    for (var k = 0; k < hidden; k++)
                    {
                        if (h[k] <= 0)
                            continue;
                        gb1[k] += dh[k];
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(row, dh[k], g1.AsSpan(k * inputs, inputs), g1.AsSpan(k * inputs, inputs));
                    }
                }
                var scale = 1f / (end - start);
                step++;
                adam[0].Step(w1, g1, scale, settings, step, decay: true);
                adam[1].Step(b1, gb1, scale, settings, step, decay: false);
                adam[2].Step(w2, g2, scale, settings, step, decay: true);
                adam[3].Step(b2, gb2, scale, settings, step, decay: false);
            }
            progress?.Invoke(epoch + 1, loss / x.Length);
        }
        return head;
    }

    private static float[] Init(int count, float std, Random random)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            // Box–Muller: normal samples from the seeded generator.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }

    /// <summary>Adam with decoupled weight decay (AdamW) for one parameter array.</summary>
    private sealed class Adam(int size)
    {
        private readonly float[] _m = new float[size];
        private readonly float[] _v = new float[size];

        public void Step(float[] weights, float[] gradients, float scale, HeadTrainingSettings settings, int step, bool decay)
        {
            const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
            var correction1 = 1 - MathF.Pow(beta1, step);
            var correction2 = 1 - MathF.Pow(beta2, step);
            for (var i = 0; i < weights.Length; i++)
            {
                var g = gradients[i] * scale;
                _m[i] = beta1 * _m[i] + (1 - beta1) * g;
                _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
                var update = _m[i] / correction1 / (MathF.Sqrt(_v[i] / correction2) + epsilon);
                if (decay)
                    update += settings.WeightDecay * weights[i];
                weights[i] -= settings.LearningRate * update;
            }
        }
    }
}
