using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>
/// A one-request HTTP server on a socket, for what Kestrel will not do on purpose: send a few SSE events, then cut
/// the connection mid-response (a host killed mid-reply) or fall silent with it open (a hung host).
/// </summary>
internal sealed class RawSseServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _serving;

    public RawSseServer(IReadOnlyList<string> events, bool cutAfterEvents)
    {
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _serving = ServeAsync(events, cutAfterEvents);
    }

    public Uri Address { get; }

    private async Task ServeAsync(IReadOnlyList<string> events, bool cutAfterEvents)
    {
        using var client = await _listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        await ReadRequestAsync(stream);
        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
        foreach (var data in events)
        {
            var chunk = $"data: {data}\n\n";
            await WriteAsync(stream, $"{Encoding.UTF8.GetByteCount(chunk):X}\r\n{chunk}\r\n");
        }
        if (!cutAfterEvents)
            await _release.Task;
        // Closing without the terminating zero-length chunk is a response cut short.
    }

    /// <summary>Reads the request up to the end of its body, so that closing the socket sends FIN, not RST.</summary>
    private static async Task ReadRequestAsync(NetworkStream stream)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!Complete(received.ToString()))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
                return;
            received.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }

        static bool Complete(string request)
        {
            var headersEnd = request.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headersEnd < 0)
                return false;
            var headers = request[..headersEnd].ToLowerInvariant();
            if (headers.Contains("transfer-encoding: chunked"))
                return request.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
            var length = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("content-length:", StringComparison.Ordinal));
            return length is null || request.Length - headersEnd - 4 >= int.Parse(length["content-length:".Length..].Trim());
        }
    }

    private static async Task WriteAsync(NetworkStream stream, string text)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await stream.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client hung up first, which is what some tests do.
        }
    }
}
