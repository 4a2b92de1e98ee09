using System.Text.Json;
using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

internal static class Conversations
{
    // The last user turn ends in a space on purpose: Llama trims message content, the others keep it.
    public static readonly ChatMessage[] WithSystem =
    [
        new("system", "You are a helpful assistant."),
        new("user", "Hello!"),
        new("assistant", "Hi there. How can I help?"),
        new("user", "What is 2 + 2? "),
    ];

    public static readonly ChatMessage[] WithoutSystem = WithSystem[1..];
}

internal static class Fixtures
{
    public static string Template(string fileName) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Chat", "Templates", fileName));

    public static string Render(string template, params ChatMessage[] messages) =>
        ChatTemplate.FromString(template).Render(messages, addGenerationPrompt: false);
}

/// <summary>A temporary model folder for tokenizer_config.json tests.</summary>
internal sealed class ModelFolder : IDisposable
{
    public ModelFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "chat-template-tests-" + Guid.NewGuid().ToString("N"));

    public string ConfigPath => System.IO.Path.Combine(Path, "tokenizer_config.json");

    /// <summary>Writes the config through System.Text.Json so templates get real JSON escaping, as on the Hub.</summary>
    public string WriteConfig(object config)
    {
        File.WriteAllText(ConfigPath, JsonSerializer.Serialize(config));
        return ConfigPath;
    }

    public void WriteFile(string name, string content) => File.WriteAllText(System.IO.Path.Combine(Path, name), content);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
