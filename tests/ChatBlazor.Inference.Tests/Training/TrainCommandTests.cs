using System.Text.Json;
using ChatBlazor.Inference.Generation;

namespace ChatBlazor.Inference.Tests.Training;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chatblazor-traincmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TheTrainCommandBuildsALoadableModelFolderWithItsEvaluation()
    {
        var config = Path.Combine(_dir, "tiny.json");
        File.WriteAllText(config, $$"""
            {
              "shape": { "vocab": 400, "hidden": 32, "intermediate": 64, "layers": 2, "heads": 4, "kvHeads": 2, "ropeTheta": 10000, "tied": true, "maxPositions": 256 },
              "training": { "steps": 12, "batchSize": 4, "sequenceLength": 64, "learningRate": 0.01, "minLearningRate": 0.001, "warmupSteps": 2, "checkpointEvery": 6 },
              "data": { "arithmetic": 40, "definitions": 12, "productHelp": 16, "smallTalk": 8, "refusals": 4 },
              "eval": { "arithmetic": 2, "definitions": 2, "productHelp": 2, "smallTalk": 1, "refusals": 1 },
              "dtype": "f32",
              "wordNetDir": {{JsonSerializer.Serialize(Path.Combine(AppContext.BaseDirectory, "fixtures", "wordnet"))}}
            }
            """);
        var output = Path.Combine(_dir, "model");

        var exit = await Inference.Cli.Program.Main(["train", "--config", config, "--out", output, "--seed", "1"]);

        Assert.Equal(0, exit);
        var model = LoadedModel.Load(output);
        Assert.True(model.Tokenizer!.VocabSize <= 400);
        Assert.NotNull(model.Tokenizer.TokenToId("<|im_end|>"));
        Assert.Contains(model.Tokenizer.TokenToId("<|im_end|>")!.Value, model.EosTokenIds);
        var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "eval.json"))).RootElement;
        Assert.Equal(2, eval.GetProperty("arithmetic").GetProperty("count").GetInt32());
    }
}
