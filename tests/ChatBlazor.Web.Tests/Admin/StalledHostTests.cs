using System.Net;
using ChatBlazor.Core.Routing;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Web.Tests.Admin;

/// <summary>
/// A remote host that accepts connections but never answers (a hung process, a full accept queue) is marked down by
/// the live state reader, and the instance goes on serving: a timeout there once stopped the whole app.
/// </summary>
public class StalledHostTests(StalledHostTests.Factory app) : IClassFixture<StalledHostTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        private WebApplication? _host;
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task InitializeAsync()
        {
            // Test double: every request waits until the factory is disposed.
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _host = builder.Build();
            _host.Run(async (HttpContext http) => await _release.Task.WaitAsync(http.RequestAborted));
            await _host.StartAsync();
            Set("Inference:Hosts:0:Url", _host.Urls.Single());
            Set("Inference:Hosts:0:Models:0", "stalled");
            await base.InitializeAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            _release.TrySetResult();
            if (_host is not null)
                await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task AHostThatNeverAnswersIsMarkedDownAndTheInstanceKeepsServing()
    {
        var states = app.Services.GetRequiredService<IModelStates>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (states.StateOf("stalled") is not { Healthy: false })
            await Task.Delay(100, deadline.Token); // polling with a deadline: the reader runs on its own period

        Assert.Contains("did not answer", states.StateOf("stalled")!.Error);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/health/ready")).StatusCode);
        // Still reading: a later round finds it down again rather than having stopped.
        var first = states.StateOf("stalled")!.CheckedAt;
        while (states.StateOf("stalled")!.CheckedAt == first)
            await Task.Delay(100, deadline.Token);
    }
}
