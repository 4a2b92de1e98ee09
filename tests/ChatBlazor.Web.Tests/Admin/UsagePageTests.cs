using Bunit;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Usage;
using ChatBlazor.Web.Admin.Usage;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>The usage page when PostgreSQL does not answer: a clear error, not a crash or empty charts that look like no usage.</summary>
public class UsagePageTests : BunitContext, IAsyncLifetime
{
    // MudBlazor's select and date picker register services that only dispose asynchronously.
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    public UsagePageTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        // Nothing listens on port 1: every query fails at once, as when the database is away.
        Services.AddDbContextFactory<AppDbContext>(options => options.UseNpgsql("Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2"));
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Services.AddUsageAnalytics();
        Services.AddSingleton<AuditLog>();
        Services.AddSingleton<IBackgroundJobClient, JobClientDouble>();
        Services.AddSingleton<JobStorage, JobStorageDouble>();
        Services.AddSingleton<UsageJobs>();
        AddAuthorization().SetAuthorized("admin@example.com").SetRoles("Admin", "User");
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
    }

    [Fact]
    public void ADatabaseThatIsAwaySaysSoInsteadOfShowingNoUsage()
    {
        var page = Render<UsagePage>();

        page.WaitForAssertion(() => Assert.Contains("The database did not answer", page.Find("[data-testid=admin-usage-error]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=admin-usage-empty]"));
    }

    /// <summary>Test double: the page under test never reads a job's state here.</summary>
    private sealed class JobStorageDouble : JobStorage
    {
        public override Hangfire.Storage.IMonitoringApi GetMonitoringApi() => throw new InvalidOperationException("not expected in this test");
        public override Hangfire.Storage.IStorageConnection GetConnection() => throw new InvalidOperationException("not expected in this test");
    }

    /// <summary>Test double: the page under test never enqueues here.</summary>
    private sealed class JobClientDouble : IBackgroundJobClient
    {
        public string Create(Job job, IState state) => throw new InvalidOperationException("not expected in this test");
        public bool ChangeState(string jobId, IState state, string expectedState) => throw new InvalidOperationException("not expected in this test");
    }
}
