using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Training;
using ChatBlazor.Inference.Weights;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private static readonly ModelShape Shape = new(Vocab: 48, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KvHeads: 2, RopeTheta: 10000, Tied: true, MaxPositions: 128);
    private readonly string _dir = Directory.CreateTempSubdirectory("chatblazor-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A learnable task: after a 4-token prompt, count upwards from its last token.</summary>
    private static List<TrainingExample> Counting() =>
        [.. Enumerable.Range(0, 32).Select(start => new TrainingExample([.. Enumerable.Range(0, 20).Select(i => (start + i) % Shape.Vocab)], PromptLength: 4))];

    private static TrainingSettings Settings(int steps) => new()
    {
        Shape = Shape, Steps = steps, BatchSize = 8, SequenceLength = 32, LearningRate = 1e-2, MinLearningRate = 1e-3, WarmupSteps = 5, CheckpointEvery = 10,
    };

    [Fact]
    public void TheLossGoesDownOnATinyConfig()
    {
        var losses = new Trainer(Settings(60), Path.Combine(_dir, "checkpoints"), seed: 1).Train(Counting());

        Assert.Equal(60, losses.Count);
        Assert.True(losses.TakeLast(5).Average() < 0.5 * losses.Take(5).Average(), $"first {losses.Take(5).Average():F3}, last {losses.TakeLast(5).Average():F3}");
    }

    [Fact]
    public void TheExportedFolderReloadsBitExactlyAndComputesTheSameLogits()
    {
        var trainer = new Trainer(Settings(10), Path.Combine(_dir, "checkpoints"), seed: 2);
        trainer.Train(Counting());
        var exported = Path.Combine(_dir, "model");

        Trainer.Export(trainer.Model!, Shape, exported, ScalarType.Float32, bosTokenId: 0, eosTokenId: 1);

        var file = SafeTensors.Open(exported);
        foreach (var (name, parameter) in trainer.Model!.Weights)
        {
            using var saved = file.Load(name, parameter.shape);
            Assert.Equal(parameter.detach().bytes.ToArray(), saved.bytes.ToArray());
        }
        var engine = LlamaModel.Load(exported, CPU);
        int[] prompt = [5, 6, 7, 8, 9];
        using var cache = new KvCache(engine.Config, prompt.Length, engine.Device);
        using var inference = engine.Forward(prompt, 0, cache, lastOnly: false);
        using var training = trainer.Model.forward(tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length])).detach();
        Assert.True((inference - training[0]).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void TwoSequencesPackedInOneRowComputeWhatEachComputesAlone()
    {
        random.manual_seed(4);
        var model = new TrainableLlama(Shape);
        long[] first = [3, 9, 4, 7, 2], second = [11, 5, 8];
        using var _ = no_grad();
        using var alone1 = model.forward(tensor(first, [1, 5]));
        using var alone2 = model.forward(tensor(second, [1, 3]));

        // Row: first (positions 0..4), second (0..2); a token sees its own sequence's earlier tokens only.
        var mask = zeros(1, 1, 8, 8, ScalarType.Bool);
        for (var i = 0; i < 8; i++)
            for (var j = 0; j <= i; j++)
                mask[0, 0, i, j] = tensor((i < 5) == (j < 5));
        using var packed = model.Forward(tensor([.. first, .. second], [1, 8]), tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 }, [1, 8]), mask);

        Assert.True((packed[0, ..5] - alone1[0]).abs().max().item<float>() < 1e-5);
        Assert.True((packed[0, 5..] - alone2[0]).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void TheReplyLossEqualsTheLossOverAllLogitsWithPromptsIgnored()
    {
        random.manual_seed(5);
        var model = new TrainableLlama(Shape);
        var ids = randint(Shape.Vocab, [2, 6]);
        var positions = arange(6).expand(2, -1);
        var targets = tensor(new long[] { -100, -100, 7, 3, 12, -100, -100, 40, 2, 2, 9, 30 }, [2, 6]);
        using var _ = no_grad();

        var all = nn.functional.cross_entropy(model.forward(ids).view(-1, Shape.Vocab), targets.view(-1), ignore_index: Trainer.IgnoredTarget);
        var replies = Trainer.ReplyLoss(model, ids, positions, mask: null, targets);

        Assert.Equal(all.item<float>(), replies.item<float>(), 1e-5f);
    }

    [Fact]
    public void ARunResumesFromItsLastCheckpoint()
    {
        var checkpoints = Path.Combine(_dir, "checkpoints");
        using var stop = new CancellationTokenSource();
        new Trainer(Settings(30), checkpoints, seed: 3).Train(Counting(), p => { if (p.Step == 14) stop.Cancel(); }, stop.Token);

        var rest = new Trainer(Settings(30), checkpoints, seed: 3).Train(Counting());

        Assert.Equal(20, rest.Count); // checkpoint at step 10, so steps 11..30 remain
    }

    [Fact]
    public void TheLearningRateWarmsUpThenFollowsACosineToItsFloor()
    {
        var trainer = new Trainer(Settings(105) with { LearningRate = 1.0, MinLearningRate = 0.1 }, _dir, seed: 0);

        Assert.Equal(0.2, trainer.LearningRateAt(0), 6);    // 1/5 of the way through warm-up
        Assert.Equal(1.0, trainer.LearningRateAt(4), 6);
        Assert.Equal(0.55, trainer.LearningRateAt(55), 6);  // half-way through the cosine: (1 + 0.1) / 2
        Assert.Equal(0.1, trainer.LearningRateAt(105), 6);
    }
}
