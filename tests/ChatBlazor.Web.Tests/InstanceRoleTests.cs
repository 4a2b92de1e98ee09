using System.Net;
using ChatBlazor.Core.Replies;
using ChatBlazor.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatBlazor.Web.Tests;

/// <summary>An instance configured to run reply jobs only (Replies:Role = Worker): a fleet's back room.</summary>
public class WorkerOnlyInstanceTests(WorkerOnlyInstanceTests.Factory app) : IClassFixture<WorkerOnlyInstanceTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public Factory() => Set("Replies:Role", "Worker");
    }

    [Theory]
    [InlineData("/chat")]
    [InlineData("/Account/Login")]
    [InlineData("/v1/models")]
    public async Task ItServesNoPagesAndNoApi(string path)
    {
        var response = await app.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ItAnswersHealthChecksAndRunsTheReplyWorker()
    {
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/health/ready")).StatusCode);
        Assert.Contains(app.Services.GetServices<IHostedService>(), service => service is ReplyWorker);
    }
}
