namespace ChatBlazor.Inference.Contracts;

/// <summary>
/// A chat template that cannot be parsed, fails while rendering, or calls <c>raise_exception</c>.
/// </summary>
/// <remarks>
/// A <c>raise_exception(msg)</c> call keeps <c>msg</c> as the whole message, as transformers does, because
/// templates use it to tell the caller what is wrong with the conversation (e.g. roles that do not alternate).
/// </remarks>
public sealed class ChatTemplateException : Exception
{
    public ChatTemplateException(string message)
        : base(message)
    {
    }

    public ChatTemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private ChatTemplateException(string message, int? line, int? column, bool raisedByTemplate)
        : base(message)
    {
        Line = line;
        Column = column;
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>The 1-based line in the template source where the problem is, when known.</summary>
    public int? Line { get; }

    /// <summary>The 1-based column in the template source where the problem is, when known.</summary>
    public int? Column { get; }

    /// <summary>True when the template itself raised the error through <c>raise_exception</c>.</summary>
    public bool RaisedByTemplate { get; }

    /// <summary>A parse or render failure; the position goes into the message so logs show it.</summary>
    public static ChatTemplateException At(string message, int line, int column) =>
        new($"{message} (line {line}, column {column})", line, column, raisedByTemplate: false);

    public static ChatTemplateException Raised(string message, int line, int column) =>
        new(message, line, column, raisedByTemplate: true);
}
