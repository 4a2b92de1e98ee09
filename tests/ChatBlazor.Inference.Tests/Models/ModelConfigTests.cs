using System.Text.Json.Nodes;
using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Tests.Models;

public class ModelConfigTests
{
    private static JsonObject Llama() => new()
    {
        ["model_type"] = "llama", ["vocab_size"] = 100, ["hidden_size"] = 64, ["intermediate_size"] = 128,
        ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2,
    };

    [Fact]
    public void MissingOptionalFieldsTakeHuggingFaceDefaults()
    {
        var config = ModelConfig.Parse(Llama());

        Assert.Equal(16, config.HeadDim);
        Assert.Equal(10000, config.RopeTheta);
        Assert.False(config.AttentionBias);
        Assert.Null(config.RopeScaling);
    }

    [Fact]
    public void Qwen2AlwaysHasAttentionBiasAndEosMayBeAList()
    {
        var json = Llama();
        json["model_type"] = "qwen2";
        json["eos_token_id"] = new JsonArray(151643, 151645);

        var config = ModelConfig.Parse(json);

        Assert.True(config.AttentionBias);
        Assert.Equal([151643, 151645], config.EosTokenIds);
    }

    [Theory]
    [InlineData("model_type", "gpt2", "model_type 'gpt2' is not supported")]
    [InlineData("hidden_act", "gelu", "hidden_act 'gelu' is not supported")]
    [InlineData("num_key_value_heads", 3, "num_key_value_heads (3) must divide")]
    public void UnsupportedOptionsAreRejectedNamingTheField(string field, object value, string message)
    {
        var json = Llama();
        json[field] = JsonValue.Create(value);

        var error = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(json));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void AnUnsupportedRopeScalingTypeIsNamed()
    {
        var json = Llama();
        json["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 };

        var error = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(json));

        Assert.Contains("rope_scaling.rope_type 'yarn' is not supported", error.Message);
    }
}
