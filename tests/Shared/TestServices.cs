using Npgsql;

namespace ChatBlazor.Testing;

/// <summary>The PostgreSQL and Redis that ./test.sh starts, found through the same variables the app reads.</summary>
public static class TestServices
{
    public static string Postgres => Require("ConnectionStrings__Postgres");

    /// <summary>A server's maintenance database, from which test databases are created and dropped.</summary>
    private static string Maintenance(string server) => new NpgsqlConnectionStringBuilder(server) { Database = "postgres" }.ConnectionString;

    public static string Redis => Require("Redis__Configuration");

    /// <summary>Creates an empty database of its own for one test class (on the test server unless another is named); migrations are the caller's.</summary>
    public static async Task<string> CreateDatabaseAsync(string owner, string? server = null)
    {
        server ??= Postgres;
        // PostgreSQL names stop at 63 bytes: a readable prefix plus a unique suffix.
        var name = $"cbtest_{new string(owner.ToLowerInvariant().Where(char.IsLetterOrDigit).Take(24).ToArray())}_{Guid.NewGuid():N}";
        await using var admin = new NpgsqlConnection(Maintenance(server));
        await admin.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin))
            await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Maintenance(connectionString));
        await admin.OpenAsync();
        // FORCE waits only 5 s for the sessions it ends to exit; on a loaded machine (CI runs the test
        // projects side by side) one may take longer, and PostgreSQL then answers 55006. A background worker of the
        // server's own in the database (autovacuum, off in ./test.sh's cluster but maybe not in another) cannot be
        // ended by the tests' role: 42501 at once. Both pass: try again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 5)
            {
                // each try waits its own 5 s for the sessions to go
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)); // a back-off for a worker that ends by itself, not a wait in a test
            }
        }
    }

    /// <summary>Deletes a test's keys from the test Redis (the server keeps its data between runs).</summary>
    public static async Task DeleteRedisKeysAsync(string prefix)
    {
        try
        {
            await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Redis);
            var server = redis.GetServers()[0];
            await foreach (var key in server.KeysAsync(pattern: prefix + "*"))
                await redis.GetDatabase().KeyDeleteAsync(key);
        }
        catch (StackExchange.Redis.RedisException)
        {
            // a test that stopped Redis on purpose; its keys expire or go with the data folder
        }
    }

    /// <summary>The checkout's root (where ChatBlazor.sln is), for files the tests write or read beside the code.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatBlazor.sln")))
                return dir.FullName;
        throw new InvalidOperationException("ChatBlazor.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests through ./test.sh, which starts PostgreSQL and Redis.");
}
