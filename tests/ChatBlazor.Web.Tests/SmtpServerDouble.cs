using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace ChatBlazor.Web.Tests;

/// <summary>
/// Test double: a mail server on a loopback port that speaks just enough SMTP for System.Net.Mail (no TLS, no
/// authentication) and keeps every message it is given, so tests read the emails the app really sends.
/// </summary>
public sealed partial class SmtpServerDouble : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public SmtpServerDouble()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>
    /// The first link in the next message to <paramref name="to"/>, HTML entities decoded; waits for it (20 s at
    /// most: an upper bound, not a timing). Messages to others are passed over.
    /// </summary>
    public async Task<string> NextLinkToAsync(string to)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var message = await _messages.Reader.ReadAsync(wait.Token);
            if (Regex.IsMatch(message, $@"^To:.*{Regex.Escape(to)}", RegexOptions.Multiline | RegexOptions.IgnoreCase))
                return WebUtility.HtmlDecode(Href().Match(Body(message)).Groups[1].Value);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 double ESMTP");
        while (await reader.ReadLineAsync() is { } line)
        {
            var verb = line.Split(' ')[0].ToUpperInvariant();
            if (verb == "DATA")
            {
                await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                var message = new StringBuilder();
                while (await reader.ReadLineAsync() is { } data && data != ".")
                    message.Append(data.StartsWith("..", StringComparison.Ordinal) ? data[1..] : data).Append("\r\n");
                await _messages.Writer.WriteAsync(message.ToString());
                await writer.WriteLineAsync("250 queued");
            }
            else if (verb == "QUIT")
            {
                await writer.WriteLineAsync("221 bye");
                return;
            }
            else
            {
                await writer.WriteLineAsync(verb is "EHLO" or "HELO" ? "250 double" : "250 OK");
            }
        }
    }

    /// <summary>The body after the headers, undoing the transfer encoding the sender chose.</summary>
    private static string Body(string message)
    {
        var split = message.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var (headers, body) = (message[..split], message[(split + 4)..]);
        var encoding = Regex.Match(headers, @"^Content-Transfer-Encoding:\s*(\S+)", RegexOptions.Multiline | RegexOptions.IgnoreCase).Groups[1].Value.ToLowerInvariant();
        return encoding switch
        {
            "base64" => Encoding.UTF8.GetString(Convert.FromBase64String(body.Replace("\r\n", ""))),
            "quoted-printable" => QuotedPrintable().Replace(body.Replace("=\r\n", ""), m => ((char)Convert.ToByte(m.Groups[1].Value, 16)).ToString()),
            _ => body,
        };
    }

    [GeneratedRegex("=([0-9A-F]{2})")]
    private static partial Regex QuotedPrintable();

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex Href();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
