using System.ComponentModel.DataAnnotations;
using ChatBlazor.Core.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace ChatBlazor.Web.Data;

public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>.</summary>
    [Required(ErrorMessage = "Redis:Configuration is required (e.g. 127.0.0.1:6379); ./run.sh sets it.")]
    public string Configuration { get; set; } = "";
}

public static class DataExtensions
{
    public static void AddDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException("ConnectionStrings:Postgres is required (env ConnectionStrings__Postgres); ./run.sh sets it.");

        // The factory also registers AppDbContext as scoped for Identity; interactive components use the factory,
        // because a scoped context would live as long as the circuit.
        // Transient failures (a restart, a failover, a dropped connection) are retried with back-off for about a
        // minute, so a database restart mid-reply loses no text and no usage row.
        builder.Services.AddDbContextFactory<AppDbContext>(options => options.UseNpgsql(connectionString,
            npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly).EnableRetryOnFailure()));

        builder.Services.AddDataProtection()
            .SetApplicationName("ChatBlazor")
            .PersistKeysToDbContext<AppDbContext>();
    }

    public static void AddRedis(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IConnectionMultiplexer>(services =>
        {
            var options = ConfigurationOptions.Parse(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RedisOptions>>().Value.Configuration);
            // Start and keep running while Redis is away; reconnect by itself when it returns.
            options.AbortOnConnectFail = false;
            // Fail commands at once while disconnected instead of queueing them: callers fall back or report.
            options.BacklogPolicy = BacklogPolicy.FailFast;
            options.ConnectTimeout = 2000;
            return ConnectionMultiplexer.Connect(options);
        });
    }
}
