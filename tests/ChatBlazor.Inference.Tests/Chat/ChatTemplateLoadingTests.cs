using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

public sealed class ChatTemplateLoadingTests : IDisposable
{
    private readonly ModelFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ChatMlRendersEachTurnAndTheAssistantHeader()
    {
        var prompt = ChatTemplate.ChatMl().Render([new("system", "Be brief."), new("user", "Hi")], addGenerationPrompt: true);

        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void ChatMlWithoutGenerationPromptEndsAfterTheLastTurn()
    {
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n", ChatTemplate.ChatMl().Render([new("user", "Hi")], addGenerationPrompt: false));
    }

    [Fact]
    public void ConfigWithoutChatTemplateFallsBackToChatMlAndKeepsItsTokens()
    {
        var template = ChatTemplate.FromTokenizerConfig(_folder.WriteConfig(new { bos_token = "<s>", eos_token = "</s>" }));

        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", template.Render([new("user", "Hi")], addGenerationPrompt: true));
        Assert.Equal(("<s>", "</s>"), (template.BosToken, template.EosToken));
    }

    [Fact]
    public void SpecialTokensWrittenAsAddedTokenObjectsAreRead()
    {
        var config = new
        {
            bos_token = new { __type = "AddedToken", content = "<s>", lstrip = false },
            eos_token = new { __type = "AddedToken", content = "</s>", lstrip = false },
            chat_template = "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}",
        };

        var template = ChatTemplate.FromTokenizerConfig(_folder.WriteConfig(config));

        Assert.Equal("<s>Hi</s>", template.Render([new("user", "Hi")], addGenerationPrompt: false));
    }

    [Fact]
    public void NullBosTokenStaysUndefinedInTheTemplate()
    {
        var template = ChatTemplate.FromTokenizerConfig(_folder.WriteConfig(new { bos_token = (string?)null, chat_template = "[{{ bos_token }}]{{ bos_token is defined }}" }));

        Assert.Null(template.BosToken);
        Assert.Equal("[]False", template.Render([], addGenerationPrompt: false));
    }

    [Fact]
    public void ListOfNamedTemplatesYieldsTheDefaultOne()
    {
        var config = new
        {
            chat_template = new[]
            {
                new { name = "tool_use", template = "tools" },
                new { name = "default", template = "default:{{ messages|length }}" },
            },
        };

        var template = ChatTemplate.FromTokenizerConfig(_folder.WriteConfig(config));

        Assert.Equal("default:1", template.Render([new("user", "Hi")], addGenerationPrompt: false));
    }

    [Fact]
    public void ListOfNamedTemplatesWithoutADefaultIsRejected()
    {
        var path = _folder.WriteConfig(new { chat_template = new[] { new { name = "rag", template = "x" } } });

        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromTokenizerConfig(path));

        Assert.Contains("none is named \"default\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChatTemplateJinjaFileBesideTheConfigWins()
    {
        var path = _folder.WriteConfig(new { chat_template = "from config" });
        _folder.WriteFile("chat_template.jinja", "from file\n");

        Assert.Equal("from file", ChatTemplate.FromTokenizerConfig(path).Render([], addGenerationPrompt: false));
    }

    [Fact]
    public void InvalidJsonIsReportedWithThePath()
    {
        File.WriteAllText(_folder.ConfigPath, "{ not json");

        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromTokenizerConfig(_folder.ConfigPath));

        Assert.StartsWith(_folder.ConfigPath, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OneTemplateRendersManyConversations()
    {
        var template = ChatTemplate.FromString("{{ messages|length }}");

        Assert.Equal(["1", "2"], new[] { template.Render([new("user", "a")], false), template.Render([new("user", "a"), new("assistant", "b")], false) });
    }
}
