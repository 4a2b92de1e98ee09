using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using ChatBlazor.Web.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ChatBlazor.Web.Tests.Logging;

/// <summary>What the redacting step does to each part of an event, seen through the stdout formatter.</summary>
public class LogRedactorTests
{
    private sealed class LastLine : ILogEventSink
    {
        public string Text { get; private set; } = "";

        public void Emit(LogEvent logEvent)
        {
            var line = new StringWriter();
            new RenderedCompactJsonFormatter().Format(logEvent, line);
            Text = line.ToString();
        }
    }

    private static (Serilog.ILogger Log, LastLine Line) Logger()
    {
        var line = new LastLine();
        var redactor = new LogRedactor(new UserIdHash(AppFactory.UserIdKey));
        return (new LoggerConfiguration().WriteTo.Sink(new RedactingSink(redactor, line)).CreateLogger(), line);
    }

    private sealed record Order(string OwnerUserId, string Contact, string[] Notes, Dictionary<string, string> Extra);

    [Fact]
    public void NestedValuesAreRedactedAndNestedUserIdsHashed()
    {
        var (log, line) = Logger();
        var order = new Order("user-42", "bob@example.net", ["call +1 415 555 0100", "ok"],
            new() { ["iban"] = "GB82 WEST 1234 5698 7654 32", ["user_id"] = "user-43" });

        log.Information("Order {@Order}", order);

        Assert.DoesNotContain("bob@example.net", line.Text);
        Assert.DoesNotContain("+1 415 555 0100", line.Text);
        Assert.DoesNotContain("GB82 WEST", line.Text);
        Assert.DoesNotContain("user-42", line.Text);
        Assert.DoesNotContain("user-43", line.Text);
        Assert.Contains("\"Contact\":\"[EMAIL]\"", line.Text);
        Assert.Contains("\"call [PHONE]\"", line.Text);
        Assert.Contains("\"iban\":\"[IBAN]\"", line.Text);
        Assert.Contains($"\"OwnerUserId\":\"{ElasticsearchSinkTests.KeyedHash("user-42")}\"", line.Text);
        Assert.Contains($"\"user_id\":\"{ElasticsearchSinkTests.KeyedHash("user-43")}\"", line.Text);
    }

    [Fact]
    public void TextInTheTemplateAndTheExceptionIsRedactedAndTheExceptionKeepsItsType()
    {
        var (log, line) = Logger();
        var inner = new FormatException("bad SSN 123-45-6789");

        log.Error(new InvalidOperationException("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", inner),
            "Refund to 4242 4242 4242 4242 for {Count} items", 2);

        Assert.DoesNotContain("4242 4242", line.Text);
        Assert.DoesNotContain("ghp_abc", line.Text);
        Assert.DoesNotContain("123-45-6789", line.Text);
        Assert.Contains("\"@m\":\"Refund to [CARD] for 2 items\"", line.Text);
        Assert.Contains("System.InvalidOperationException: token [SECRET] leaked", line.Text);
        Assert.Contains("System.FormatException: bad SSN [SSN]", line.Text);
    }

    [Fact]
    public void NumbersIdsAndOrdinaryTextPassUnchanged()
    {
        var (log, line) = Logger();

        log.Information("Reply {ReplyId} of {Model} took {Ms} ms", Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), "chatblazor-mini", 1234567890L);

        Assert.Contains("\"@m\":\"Reply 0f8fad5b-d9cb-469f-a165-70867728950e of \\\"chatblazor-mini\\\" took 1234567890 ms\"", line.Text);
    }
}
