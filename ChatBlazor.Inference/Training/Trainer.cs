using System.Diagnostics;
using System.Text.Json;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Training;

public sealed record TrainingSettings
{
    public required ModelShape Shape { get; init; }
    public int Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 16;
    public int SequenceLength { get; init; } = 256;
    public double LearningRate { get; init; } = 3e-3;
    public double MinLearningRate { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 50;
    public double WeightDecay { get; init; } = 0.01;
    public double GradientClip { get; init; } = 1.0;
    public int CheckpointEvery { get; init; } = 100;
}

/// <summary>One training sequence; the loss counts only the tokens from <see cref="PromptLength"/> on (the replies).</summary>
public sealed record TrainingExample(int[] Tokens, int PromptLength);

public sealed record TrainingProgress(int Step, int Steps, double Loss, double LearningRate, double TokensPerSecond, TimeSpan Remaining);

/// <summary>
/// Trains a <see cref="TrainableLlama"/> with AdamW, linear warm-up then a cosine schedule, and gradient clipping.
/// Every <see cref="TrainingSettings.CheckpointEvery"/> steps it saves weights, optimizer state and the step to the
/// checkpoint folder, and a new trainer on that folder resumes there. Batches depend only on the seed and the step,
/// so a resumed run sees the batches the interrupted one would have.
/// </summary>
public sealed class Trainer(TrainingSettings settings, string checkpointDir, int seed)
{
    internal const int IgnoredTarget = -100;

    public TrainableLlama? Model { get; private set; }

    public double LearningRateAt(int step)
    {
        if (step < settings.WarmupSteps)
            return settings.LearningRate * (step + 1) / settings.WarmupSteps;
        var progress = (double)(step - settings.WarmupSteps) / Math.Max(1, settings.Steps - settings.WarmupSteps);
        return settings.MinLearningRate + 0.5 * (settings.LearningRate - settings.MinLearningRate) * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }

    /// <summary>Runs the remaining steps and returns their losses.</summary>
    public IReadOnlyList<double> Train(IReadOnlyList<TrainingExample> examples, Action<TrainingProgress>? report = null, CancellationToken cancellationToken = default)
    {
        if (examples.Count == 0)
            throw new ArgumentException("there is nothing to train on", nameof(examples));
        if (examples.Any(e => e.Tokens.Length < 2))
            throw new ArgumentException("every example needs at least two tokens (an input and its target)", nameof(examples));
        random.manual_seed(seed);
        var model = Model = new TrainableLlama(settings.Shape);
        using var optimizer = optim.AdamW(model.parameters(), settings.LearningRate, 0.9, 0.95, 1e-8, settings.WeightDecay);
        var start = Resume(model, optimizer);

        var losses = new List<double>();
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        for (var step = start; step < settings.Steps && !cancellationToken.IsCancellationRequested; step++)
        {
            using var scope = NewDisposeScope();
            var (ids, positions, mask, targets) = Batch(examples, step);
            var learningRate = LearningRateAt(step);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = learningRate;

            var loss = ReplyLoss(model, ids, positions, mask, targets);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), settings.GradientClip);
            optimizer.step();

            losses.Add(loss.item<float>());
            tokens += ids.NumberOfElements; // padding included: it is what the step computed
            var perSecond = tokens / clock.Elapsed.TotalSeconds;
            var done = step + 1 - start;
            report?.Invoke(new TrainingProgress(step + 1, settings.Steps, losses[^1], learningRate, perSecond,
                TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / done * (settings.Steps - step - 1))));
            if ((step + 1) % settings.CheckpointEvery == 0 || step + 1 == settings.Steps)
                SaveCheckpoint(model, optimizer, step + 1);
        }
        return losses;
    }

    /// <summary>
    /// Mean cross-entropy over the targets that are not <see cref="IgnoredTarget"/>. The output layer is a fifth of
    /// the model's arithmetic, so it runs only at those positions: the same loss as all logits with ignore_index.
    /// </summary>
    internal static Tensor ReplyLoss(TrainableLlama model, Tensor ids, Tensor positions, Tensor? mask, Tensor targets)
    {
        var trained = targets.view(-1).ne(IgnoredTarget).nonzero().squeeze(1);
        var hidden = model.Hidden(ids, positions, mask);
        var logits = model.Logits(hidden.view(-1, hidden.shape[^1]).index_select(0, trained));
        return nn.functional.cross_entropy(logits, targets.view(-1).index_select(0, trained));
    }

    /// <summary>Writes the trained weights as a Hugging Face folder that <see cref="LlamaModel"/> loads like any checkpoint.</summary>
    public static void Export(TrainableLlama model, ModelShape shape, string dir, ScalarType dtype, int bosTokenId, int eosTokenId)
    {
        Directory.CreateDirectory(dir);
        shape.WriteConfig(dir, dtype, bosTokenId, eosTokenId);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), model.Weights.Select(w => (w.Key, w.Value.detach().to(dtype))).ToList());
    }

    /// <summary>
    /// The rows for one step: each row packs examples drawn at random until the next one would not fit in
    /// <see cref="TrainingSettings.SequenceLength"/> (an example longer than that is cut), so short replies do not
    /// train on padding. Returns ids, positions (restarting at 0 per example), the attention mask that keeps examples
    /// apart, and next-token targets (replies only), each (B, T) or (B, 1, T, T).
    /// </summary>
    private (Tensor Ids, Tensor Positions, Tensor Mask, Tensor Targets) Batch(IReadOnlyList<TrainingExample> examples, int step)
    {
        // Not HashCode.Combine: its seed changes with every process, and a resumed run must draw the same batches.
        var random = new Random(unchecked(seed * 1_000_003 + step));
        var (rows, length) = (settings.BatchSize, settings.SequenceLength);
        var ids = new long[rows * length];
        var positions = new long[rows * length];
        var segments = new long[rows * length];
        var targets = new long[rows * length];
        Array.Fill(targets, IgnoredTarget);
        for (var row = 0; row < rows; row++)
        {
            var used = 0;
            var segment = 0;
            while (true)
            {
                var example = examples[random.Next(examples.Count)];
                var take = Math.Min(example.Tokens.Length - 1, length); // inputs; the last token is only a target
                if (used > 0 && used + take > length)
                    break;
                segment++;
                for (var t = 0; t < take; t++)
                {
                    var at = row * length + used + t;
                    (ids[at], positions[at], segments[at]) = (example.Tokens[t], t, segment);
                    if (t + 1 >= example.PromptLength)
                        targets[at] = example.Tokens[t + 1];
                }
                used += take;
                if (used == length)
                    break;
            }
            // Padding is its own segment per position: it attends only to itself and trains nothing.
            for (var t = used; t < length; t++)
                segments[row * length + t] = -1 - t;
        }
        var segment2d = tensor(segments, [rows, length]);
        var sameSegment = segment2d.unsqueeze(2).eq(segment2d.unsqueeze(1));
        var mask = sameSegment.logical_and(ones(length, length, ScalarType.Bool).tril()).unsqueeze(1);
        return (tensor(ids, [rows, length]), tensor(positions, [rows, length]), mask, tensor(targets, [rows, length]));
    }

    private void SaveCheckpoint(TrainableLlama model, optim.Optimizer optimizer, int step)
    {
        Directory.CreateDirectory(checkpointDir);
        using (var scope = NewDisposeScope())
        using (no_grad())
            SafeTensorsWriter.Write(Path.Combine(checkpointDir, "weights.safetensors"), model.Weights.Select(w => (w.Key, w.Value.detach())).ToList());
        ((TorchSharp.Modules.AdamW)optimizer).save_state_dict(Path.Combine(checkpointDir, "optimizer.bin"));
        // Written last: a checkpoint counts only once its step is recorded.
        File.WriteAllText(Path.Combine(checkpointDir, "state.json"), JsonSerializer.Serialize(new { step, seed }));
    }

    private int Resume(TrainableLlama model, optim.Optimizer optimizer)
    {
        var state = Path.Combine(checkpointDir, "state.json");
        if (!File.Exists(state))
            return 0;
        using var json = JsonDocument.Parse(File.ReadAllText(state));
        var weights = SafeTensors.Open(checkpointDir, "weights.safetensors");
        using (no_grad())
            foreach (var (name, parameter) in model.Weights)
            {
                using var saved = weights.Load(name, parameter.shape);
                parameter.copy_(saved);
            }
        ((TorchSharp.Modules.AdamW)optimizer).load_state_dict(Path.Combine(checkpointDir, "optimizer.bin"));
        return json.RootElement.GetProperty("step").GetInt32();
    }
}
