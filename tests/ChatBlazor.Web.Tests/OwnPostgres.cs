using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ChatBlazor.Web.Tests;

/// <summary>
/// A PostgreSQL cluster of one test class's own (the shared test server must stay up for the others), in a temporary
/// folder on a free loopback port, which the test can restart. Trust authentication: it lives for one test class and
/// listens on 127.0.0.1 only. As root, the server runs as the postgres user (initdb refuses root).
/// </summary>
public sealed class OwnPostgres : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cb-own-pg-").FullName;
    private readonly string _bin = Directory.GetDirectories("/usr/lib/postgresql").Order().Last() + "/bin";

    public OwnPostgres()
    {
        Port = FreePort();
        if (Environment.UserName == "root")
            Run("chown", "-R", "postgres:postgres", _folder);
        Pg("initdb", "-D", Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8");
        Start();
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    private string Data => Path.Combine(_folder, "data");

    /// <summary>Stops the server (fast: open connections are cut, as in a crash-restart or a failover) and starts it again.</summary>
    public void Restart()
    {
        Pg("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");
        Start();
    }

    private void Start() =>
        Pg("pg_ctl", "-D", Data, "-l", Path.Combine(_folder, "server.log"), "-w", "-o", $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1", "start");

    private void Pg(string program, params string[] arguments)
    {
        var path = Path.Combine(_bin, program);
        if (Environment.UserName == "root")
            Run("runuser", ["-u", "postgres", "--", path, .. arguments]);
        else
            Run(path, arguments);
    }

    private static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {errors}{output.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            Pg("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // not running
        }
        Directory.Delete(_folder, recursive: true);
    }
}
