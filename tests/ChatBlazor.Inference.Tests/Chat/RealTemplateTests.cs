using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

/// <summary>
/// The real chat templates of four model families, loaded through tokenizer_config.json like a model folder.
/// Every expected string was worked out by reading the template, turn by turn.
/// </summary>
public sealed class RealTemplateTests : IDisposable
{
    private static readonly DateTime March7th2025 = new(2025, 3, 7, 14, 5, 9);

    private readonly ModelFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private ChatTemplate Load(string fixture, string? bos, string? eos) =>
        ChatTemplate.FromTokenizerConfig(_folder.WriteConfig(new { bos_token = bos, eos_token = eos, chat_template = Fixtures.Template(fixture) }));

    // Llama 3.2 Instruct: a system header that always carries the knowledge cutoff and today's date,
    // contents trimmed, and a bare assistant header as the generation prompt.

    [Fact]
    public void LlamaPutsTodaysDateAndTheTrimmedSystemMessageInTheSystemHeader()
    {
        var template = Load("llama-3.2-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");

        var prompt = template.Render(Conversations.WithSystem, addGenerationPrompt: true, now: March7th2025);

        Assert.Equal(
            "<|begin_of_text|>"
            + "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 07 Mar 2025\n\nYou are a helpful assistant.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there. How can I help?<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2 + 2?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
            prompt);
    }

    [Fact]
    public void LlamaKeepsAnEmptySystemHeaderWhenTheConversationHasNoSystemMessage()
    {
        var template = Load("llama-3.2-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");

        var prompt = template.Render(Conversations.WithoutSystem, addGenerationPrompt: true, now: March7th2025);

        Assert.Equal(
            "<|begin_of_text|>"
            + "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 07 Mar 2025\n\n<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there. How can I help?<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2 + 2?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
            prompt);
    }

    [Fact]
    public void LlamaDateComesFromTheInjectedClock()
    {
        var template = Load("llama-3.2-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");

        var prompt = template.Render([new ChatMessage("user", "Hi")], addGenerationPrompt: false, now: new DateTime(2024, 12, 25));

        Assert.Contains("\nToday Date: 25 Dec 2024\n", prompt, StringComparison.Ordinal);
        Assert.EndsWith("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void LlamaQuotesToolResultsAsJsonBecauseTextCountsAsIterable()
    {
        var template = Load("llama-3.2-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");

        var prompt = template.Render([new("user", "Weather?"), new("tool", "{\"temp\": 21}")], addGenerationPrompt: true, now: March7th2025);

        Assert.EndsWith(
            "<|start_header_id|>user<|end_header_id|>\n\nWeather?<|eot_id|>"
            + "<|start_header_id|>ipython<|end_header_id|>\n\n\"{\\\"temp\\\": 21}\"<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
            prompt,
            StringComparison.Ordinal);
    }

    // Qwen2.5 Instruct: ChatML with its own default system prompt, no BOS, content kept verbatim.

    [Fact]
    public void QwenUsesTheCallersSystemMessageAndKeepsContentVerbatim()
    {
        var template = Load("qwen2.5-instruct.jinja", null, "<|im_end|>");

        var prompt = template.Render(Conversations.WithSystem, addGenerationPrompt: true);

        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello!<|im_end|>\n"
            + "<|im_start|>assistant\nHi there. How can I help?<|im_end|>\n"
            + "<|im_start|>user\nWhat is 2 + 2? <|im_end|>\n"
            + "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void QwenAddsItsDefaultSystemPromptWhenTheConversationHasNone()
    {
        var template = Load("qwen2.5-instruct.jinja", null, "<|im_end|>");

        var prompt = template.Render(Conversations.WithoutSystem, addGenerationPrompt: true);

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello!<|im_end|>\n"
            + "<|im_start|>assistant\nHi there. How can I help?<|im_end|>\n"
            + "<|im_start|>user\nWhat is 2 + 2? <|im_end|>\n"
            + "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void QwenLeavesOutTheAssistantHeaderWithoutAGenerationPrompt()
    {
        var template = Load("qwen2.5-instruct.jinja", null, "<|im_end|>");

        var prompt = template.Render(Conversations.WithSystem, addGenerationPrompt: false);

        Assert.EndsWith("<|im_start|>user\nWhat is 2 + 2? <|im_end|>\n", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void QwenGroupsConsecutiveToolResultsIntoOneUserTurn()
    {
        var template = Load("qwen2.5-instruct.jinja", null, "<|im_end|>");

        var prompt = template.Render([new("user", "Weather?"), new("tool", "21C"), new("tool", "sunny")], addGenerationPrompt: true);

        Assert.EndsWith(
            "<|im_start|>user\nWeather?<|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n21C\n</tool_response>\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n",
            prompt,
            StringComparison.Ordinal);
    }

    // SmolLM2 Instruct: ChatML with a SmolLM default system prompt.

    [Fact]
    public void SmolLmRendersEveryTurnAsChatMl()
    {
        var template = Load("smollm2-instruct.jinja", "<|im_start|>", "<|im_end|>");

        var prompt = template.Render(Conversations.WithSystem, addGenerationPrompt: true);

        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello!<|im_end|>\n"
            + "<|im_start|>assistant\nHi there. How can I help?<|im_end|>\n"
            + "<|im_start|>user\nWhat is 2 + 2? <|im_end|>\n"
            + "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void SmolLmAddsItsDefaultSystemPromptWhenTheConversationHasNone()
    {
        var template = Load("smollm2-instruct.jinja", "<|im_start|>", "<|im_end|>");

        var prompt = template.Render(Conversations.WithoutSystem, addGenerationPrompt: true);

        Assert.Equal(
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nHello!<|im_end|>\n"
            + "<|im_start|>assistant\nHi there. How can I help?<|im_end|>\n"
            + "<|im_start|>user\nWhat is 2 + 2? <|im_end|>\n"
            + "<|im_start|>assistant\n",
            prompt);
    }

    // Mistral 7B Instruct v0.2: [INST] blocks, the system message folded into the first user turn,
    // and no generation prompt because the model answers straight after [/INST].

    [Fact]
    public void MistralFoldsTheSystemMessageIntoTheFirstInstruction()
    {
        var template = Load("mistral-7b-instruct-v0.2.jinja", "<s>", "</s>");

        var prompt = template.Render(Conversations.WithSystem, addGenerationPrompt: true);

        Assert.Equal(
            "<s>"
            + " [INST] You are a helpful assistant.\n\nHello! [/INST]"
            + " Hi there. How can I help?</s>"
            + " [INST] What is 2 + 2?  [/INST]",
            prompt);
    }

    [Fact]
    public void MistralWithoutASystemMessageStartsWithThePlainInstruction()
    {
        var template = Load("mistral-7b-instruct-v0.2.jinja", "<s>", "</s>");

        var prompt = template.Render(Conversations.WithoutSystem, addGenerationPrompt: true);

        Assert.Equal("<s> [INST] Hello! [/INST] Hi there. How can I help?</s> [INST] What is 2 + 2?  [/INST]", prompt);
    }

    [Fact]
    public void MistralRejectsTwoUserTurnsInARowWithItsOwnMessage()
    {
        var template = Load("mistral-7b-instruct-v0.2.jinja", "<s>", "</s>");

        var error = Assert.Throws<ChatTemplateException>(() =>
            template.Render([new("user", "one"), new("user", "two")], addGenerationPrompt: true));

        Assert.Equal("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...", error.Message);
        Assert.True(error.RaisedByTemplate);
        Assert.Equal(11, error.Line);
    }

    [Fact]
    public void MistralRejectsRolesOtherThanUserAndAssistant()
    {
        var template = Load("mistral-7b-instruct-v0.2.jinja", "<s>", "</s>");

        var error = Assert.Throws<ChatTemplateException>(() =>
            template.Render([new("user", "run it"), new("tool", "42")], addGenerationPrompt: true));

        Assert.Equal("Only user and assistant roles are supported, with the exception of an initial optional system message!", error.Message);
    }
}
