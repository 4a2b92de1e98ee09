using ChatBlazor.Inference.Moderation;

namespace ChatBlazor.Inference.Tests.Moderation;

public sealed class HeadTrainerTests
{
    [Fact]
    public void SameSeedGivesTheSameWeightsAndTheHeadLearnsASeparableLabel()
    {
        // Two clusters on opposite sides of the first axis; label "a" is the positive side.
        var random = new Random(5);
        var x = new float[200][];
        var y = new bool[200][];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = Enumerable.Range(0, MiniLmEncoder.Dimensions).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
            x[i][0] = i % 2 == 0 ? 1 : -1;
            y[i] = [i % 2 == 0];
        }
        var settings = new HeadTrainingSettings(Hidden: 8, Epochs: 60);

        var first = HeadTrainer.Train(x, y, ["a"], settings, seed: 3);
        var second = HeadTrainer.Train(x, y, ["a"], settings, seed: 3);

        Assert.Equal(first.W1, second.W1);
        Assert.Equal(first.W2, second.W2);
        Assert.True(first.Score(x[0])[0] > 0.9f && first.Score(x[1])[0] < 0.1f, $"{first.Score(x[0])[0]:F3} / {first.Score(x[1])[0]:F3}");
    }
}
