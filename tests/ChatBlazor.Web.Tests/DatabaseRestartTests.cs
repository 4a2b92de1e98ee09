using System.Net.Http.Headers;
using System.Text;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ChatBlazor.Web.Tests;

/// <summary>PostgreSQL restarted while replies stream (a crash-restart, a failover): no text and no usage row is lost.</summary>
public class DatabaseRestartTests(DatabaseRestartTests.Factory app) : IClassFixture<DatabaseRestartTests.Factory>
{
    public sealed class Factory : AppFactory
    {
        public OwnPostgres Postgres { get; } = new();
        public ReleasedEngineDouble Engine { get; } = new("released");

        public Factory() => Set("Replies:SaveInterval", "00:00:00"); // every piece saved, so one lands on the restart

        protected override string PostgresServer => Postgres.ConnectionString;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IInferenceEngine>(Engine));
        }

        // The whole cluster goes, database and all.
        protected override Task DropDatabaseAsync()
        {
            Postgres.Dispose();
            return Task.CompletedTask;
        }
    }

    private async Task<T> WhenTheDatabaseAnswersAsync<T>(Func<AppDbContext, Task<T?>> query) where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
                if (await query(db) is { } found)
                    return found;
            }
            catch (NpgsqlException)
            {
                // still coming back
            }
            await Task.Delay(100, timeout.Token); // polling a condition
        }
    }

    [Fact]
    public async Task ARestartDuringAnApiStreamLosesNeitherTheReplyNorItsUsageRow()
    {
        var (user, key) = await app.UserWithKeyAsync();
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var body = """{"model":"released","stream":true,"messages":[{"role":"user","content":"Hello"}]}""";
        var sending = client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead);
        app.Engine.Release("Hello, "); // ends at a separator: the stream redactor passes it on at once
        using var response = await sending;
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        app.Postgres.Restart();
        app.Engine.Release("world; ", "<end>");
        var rest = await reader.ReadToEndAsync();

        Assert.Contains("\"content\":\"world; \"", rest);
        Assert.EndsWith("data: [DONE]\n\n", rest);
        var row = await WhenTheDatabaseAnswersAsync(db => db.UsageRecords.AsNoTracking().SingleOrDefaultAsync(u => u.UserId == user));
        Assert.Equal((CompletionStatus.Complete, UsageSource.Api, 2), (row.Status, row.Source, row.CompletionTokens));
    }

    [Fact]
    public async Task ARestartDuringAChatReplyLosesNoTextAndNoUsageRow()
    {
        var (user, _) = await app.UserWithKeyAsync();
        var store = app.Services.GetRequiredService<ConversationStore>();
        var chat = await store.CreateAsync(user, "released");
        var question = await store.AddUserMessageAsync(user, chat.Id, null, "Tell me two things");
        var reply = (await app.Services.GetRequiredService<ReplyJobs>().StartAsync(user, chat.Id, question!.Id))!.Value;
        app.Engine.Release("First thing. ");
        await WhenTheDatabaseAnswersAsync(async db => await db.Messages.AnyAsync(m => m.Id == reply && m.Content == "First thing. ") ? "saved" : null);

        app.Postgres.Restart();
        app.Engine.Release("Second", " thing.", "<end>");

        var stored = await WhenTheDatabaseAnswersAsync(db => db.Messages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == reply && m.Status == CompletionStatus.Complete));
        Assert.Equal("First thing. Second thing.", stored.Content);
        var row = await WhenTheDatabaseAnswersAsync(db => db.UsageRecords.AsNoTracking().SingleOrDefaultAsync(u => u.CompletionId == reply));
        Assert.Equal((CompletionStatus.Complete, 3), (row.Status, row.CompletionTokens));
    }
}
