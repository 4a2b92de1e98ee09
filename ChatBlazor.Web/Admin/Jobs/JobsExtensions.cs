using System.ComponentModel.DataAnnotations;
using ChatBlazor.Core.Replies;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Admin.Jobs;

public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Hangfire's tables live in this schema of the app's database, apart from the app's own.</summary>
    [Required, RegularExpression("^[a-z_][a-z0-9_]*$", ErrorMessage = "Jobs:Schema must be a lower-case SQL identifier.")]
    public string Schema { get; set; } = "hangfire";

    /// <summary>Jobs one instance runs at once; recurring jobs are short, so a few are plenty.</summary>
    [Range(1, 64)] public int WorkerCount { get; set; } = 2;

    /// <summary>How often an instance looks for due jobs; tests shorten it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")] public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// Background work that is not a chat reply (usage rollups, and later moderation and invoice sync) runs under
/// Hangfire on PostgreSQL. Every instance that runs jobs (Replies:Role All or Worker) is a Hangfire server; the
/// recurring jobs are declared once here, and Hangfire runs each occurrence on exactly one of them.
/// </summary>
public static class JobsExtensions
{
    public static void AddJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        var connectionString = builder.Configuration.GetConnectionString("Postgres") ?? "";
        var storage = new PostgreSqlStorageOptions
        {
            SchemaName = options.Schema,
            QueuePollInterval = options.PollInterval,
            // LISTEN/NOTIFY: a job enqueued now ("Aggregate now") starts at once, not at the next poll.
            EnableLongPolling = true,
            // `migrate` installs the schema (JobsSchema.InstallAsync) with the app's own tables: a running instance
            // never changes the database's shape, and one started while PostgreSQL is away does not stall on it.
            PrepareSchemaIfNecessary = false,
        };
        // The app's own storage, in its container: the client, the recurring-job manager, the server and the dashboard
        // all take it from there. Hangfire's global JobStorage.Current is one per process and is left unset, so two
        // apps in one process (the tests host several) never enqueue into each other's database.
        builder.Services.AddSingleton<JobStorage>(_ => new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storage), storage));
        builder.Services.AddHangfire(hangfire => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        builder.Services.AddHostedService<RecurringJobs>();
        var role = builder.Configuration.GetSection(ReplyOptions.Section).Get<ReplyOptions>() ?? new ReplyOptions();
        if (role.RunsJobs)
            builder.Services.AddHangfireServer(server =>
            {
                server.WorkerCount = options.WorkerCount;
                server.SchedulePollingInterval = options.PollInterval;
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                // A job cut off at shutdown runs again later (Hangfire requeues it), so the host need not wait long.
                server.ShutdownTimeout = TimeSpan.FromSeconds(5);
            });
    }

    /// <summary>
    /// The dashboard at /admin/jobs, its pages and its API routes alike, for admins only: the endpoint policy
    /// decides, so Hangfire's own filter (local requests only) is replaced by none.
    /// </summary>
    public static void MapJobsDashboard(this WebApplication app)
    {
        app.MapHangfireDashboardWithAuthorizationPolicy(AdminExtensions.Policy, "/admin/jobs", new DashboardOptions
        {
            Authorization = [],
            AsyncAuthorization = [],
            AppPath = "/admin",
            DashboardTitle = "ChatBlazor jobs",
            DisplayStorageConnectionString = false,
        });
    }
}

public static class JobsSchema
{
    /// <summary>Creates or upgrades Hangfire's tables in their schema; run with the app's migrations.</summary>
    public static Task InstallAsync(IServiceProvider services, CancellationToken ct = default) =>
        InstallAsync(services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres") ?? "",
            services.GetRequiredService<IOptions<JobsOptions>>().Value.Schema, ct);

    public static async Task InstallAsync(string connectionString, string schema, CancellationToken ct = default)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        PostgreSqlObjectsInstaller.Install(connection, schema);
    }
}

/// <summary>
/// Every recurring job, in one place: its id, what it runs and when. Declared at start by every instance (the
/// same declaration twice changes nothing); a database away at start only delays them to the next start.
/// </summary>
internal sealed class RecurringJobs(IRecurringJobManager jobs, IOptions<Billing.StripeOptions> stripe, ILogger<RecurringJobs> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            Declare(jobs, stripe.Value);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            log.LogError(e, "Could not declare the recurring jobs; they keep their previous schedule until the next start");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Declare(IRecurringJobManager jobs, Billing.StripeOptions stripe)
    {
        Usage.UsageAdmin.DeclareJobs(jobs);
        Billing.BillingJobs.DeclareJobs(jobs, stripe.IsEnabled);
    }
}
