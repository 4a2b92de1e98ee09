namespace ChatBlazor.Inference.Contracts;

/// <summary>
/// How a conversation gets its title: the first user message is sent to the model with this one instruction, and
/// the reply is cleaned to one short line. The shipped model is trained on exactly this prompt; larger models follow
/// the instruction as written.
/// </summary>
public static class TitlePrompt
{
    public const string Instruction = "Write a short title (at most six words) for a conversation that starts with this message. Reply with the title only.";

    /// <summary>Titles longer than this are cut at a word boundary.</summary>
    public const int MaxLength = 60;

    // Only the start of a long first message: a title needs the subject, and the prompt must fit small windows.
    private const int MaxMessageChars = 400;

    public static string For(string firstMessage)
    {
        ArgumentNullException.ThrowIfNull(firstMessage);
        var message = firstMessage.Trim();
        if (message.Length > MaxMessageChars)
            message = message[..MaxMessageChars] + "…";
        return Instruction + "\n\n" + message;
    }

    /// <summary>The first line of a reply, without quotes, a "Title:" label or closing punctuation; null when nothing is left.</summary>
    public static string? Clean(string reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var line = reply.Trim().Split('\n', 2)[0].Trim();
        if (line.StartsWith("Title:", StringComparison.OrdinalIgnoreCase))
            line = line["Title:".Length..].Trim();
        line = line.Trim('"', '\'', '*', '#', ' ', '“', '”').TrimEnd('.', '!', '?', ':', ';', ',').Trim();
        if (line.Length > MaxLength)
        {
            var cut = line.LastIndexOf(' ', MaxLength);
            line = (cut > MaxLength / 2 ? line[..cut] : line[..MaxLength]).TrimEnd() + "…";
        }
        return line.Length == 0 ? null : line;
    }
}
