using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace ChatBlazor.Web.Logging;

/// <summary>
/// Keeps personal data out of every log event before any sink sees it: the moderation rules of the <c>pii</c>
/// category (emails, cards, phones, IBANs, SSNs, secrets) replace what they find with their placeholders in the
/// message template's text, every property value (nested ones too) and the exception's text; properties named like a
/// user id (<c>UserId</c>, <c>OwnerUserId</c>, <c>user_id</c>) carry the keyed <see cref="UserIdHash"/> instead.
/// </summary>
/// <remarks>
/// The built-in rules, not the admins' edited copies in PostgreSQL: an admin who lets phone numbers through to the
/// model has not asked for them in the logs, and logging must not depend on the database being up.
/// </remarks>
public sealed class LogRedactor(UserIdHash userIds)
{
    // The shortest thing a rule finds is an email like a@b.co; shorter strings are levels, codes, names of things.
    private const int ShortestFinding = 6;

    private static readonly RuleDetector Pii = new(ModerationRules.Defaults.Where(r => r.Category == ModerationCategories.Pii));

    public string Redact(string text) =>
        text.Length < ShortestFinding ? text : Redactor.Redact(text, Pii.Detect(text));

    public LogEvent Redact(LogEvent e) => new(e.Timestamp, e.Level,
        e.Exception is null ? null : new RedactedException(e.Exception, Redact(e.Exception.Message), Redact(e.Exception.ToString())),
        Redact(e.MessageTemplate),
        e.Properties.Select(p => new LogEventProperty(p.Key, Redact(p.Key, p.Value))),
        e.TraceId ?? default, e.SpanId ?? default);

    /// <summary>Text written into a template (an interpolated string instead of a property) is redacted too.</summary>
    private MessageTemplate Redact(MessageTemplate template)
    {
        var changed = false;
        var tokens = template.Tokens.Select(token =>
        {
            if (token is not TextToken text) return token;
            var redacted = Redact(text.Text);
            if (ReferenceEquals(redacted, text.Text)) return token;
            changed = true;
            return new TextToken(redacted);
        }).ToList();
        if (!changed) return template;
        var source = string.Concat(tokens.Select(t => t is TextToken text ? text.Text.Replace("{", "{{").Replace("}", "}}") : t.ToString()));
        return new MessageTemplate(source, tokens);
    }

    private LogEventPropertyValue Redact(string? name, LogEventPropertyValue value)
    {
        if (name is not null && IsUserId(name) && value is ScalarValue { Value: { } id })
            return new ScalarValue(userIds.Of(id.ToString()!));
        return value switch
        {
            ScalarValue { Value: string s } => Redact(s) is var r && ReferenceEquals(r, s) ? value : new ScalarValue(r),
            ScalarValue { Value: null or bool or char or byte or sbyte or short or ushort or int or uint or long or ulong or float or double
                or decimal or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan or Guid or Enum } => value,
            // Anything else is rendered with ToString(): redact what that would show.
            ScalarValue { Value: { } other } => other.ToString() is { } s && Redact(s) is var r && !ReferenceEquals(r, s) ? new ScalarValue(r) : value,
            SequenceValue sequence => new SequenceValue(sequence.Elements.Select(v => Redact(null, v))),
            StructureValue structure => new StructureValue(structure.Properties.Select(p => new LogEventProperty(p.Name, Redact(p.Name, p.Value))), structure.TypeTag),
            DictionaryValue dictionary => new DictionaryValue(dictionary.Elements.Select(kv =>
                new KeyValuePair<ScalarValue, LogEventPropertyValue>(kv.Key, Redact(kv.Key.Value as string, kv.Value)))),
            _ => value,
        };
    }

    /// <summary>UserId, userId, OwnerUserId, user_id, user-id: the names the code and the frameworks use.</summary>
    public static bool IsUserId(string name)
    {
        var compact = name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return compact.EndsWith("userid", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>An exception as logs show it: its message and text (inner exceptions included) redacted, its stack kept.</summary>
public sealed class RedactedException(Exception original, string message, string text) : Exception(message)
{
    /// <summary>The type that was thrown, e.g. System.InvalidOperationException.</summary>
    public string OriginalType { get; } = original.GetType().FullName ?? original.GetType().Name;

    public override string? StackTrace => original.StackTrace;

    public override string ToString() => text;
}

/// <summary>Hands the sinks it wraps each event redacted (<see cref="LogRedactor"/>); nothing reaches them unredacted.</summary>
public sealed class RedactingSink(LogRedactor redactor, ILogEventSink inner) : ILogEventSink, IDisposable
{
    public void Emit(LogEvent logEvent) => inner.Emit(redactor.Redact(logEvent));

    public void Dispose() => (inner as IDisposable)?.Dispose();
}
