using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatBlazor.Deploy.Tests.Containers;

/// <summary>docker/http-probe.sh, the images' HEALTHCHECK, against a real socket that answers as told.</summary>
public class HttpProbeTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK", 0)]
    [InlineData("HTTP/1.1 503 Service Unavailable", 1)]
    [InlineData("HTTP/1.1 400 Bad Request", 1)]
    public async Task TheProbeSucceedsOnlyOnA200(string statusLine, int expectedExitCode)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var request = AnswerOnceAsync(listener, statusLine);

        var exitCode = await ProbeAsync(port, "/health/live");

        Assert.Equal(expectedExitCode, exitCode);
        var received = await request;
        Assert.StartsWith("GET /health/live HTTP/1.0\r\n", received);
        Assert.Contains("\r\nHost: localhost\r\n", received);
    }

    [Fact]
    public async Task TheProbeFailsWhenNothingListens()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        Assert.NotEqual(0, await ProbeAsync(port, "/health/live"));
    }

    private static async Task<string> AnswerOnceAsync(TcpListener listener, string statusLine)
    {
        using var client = await listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var received = new StringBuilder();
        var buffer = new byte[1024];
        while (!received.ToString().Contains("\r\n\r\n"))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
                break;
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{statusLine}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        return received.ToString();
    }

    private static async Task<int> ProbeAsync(int port, string path)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true };
        start.ArgumentList.Add(Repository.PathOf("docker/http-probe.sh"));
        start.ArgumentList.Add(port.ToString());
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        // A guard against a hung probe, not a measure of speed.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }
}
