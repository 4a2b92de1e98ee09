using ChatBlazor.E2E.Fleet;
using ChatBlazor.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.E2E.Load;

/// <summary>
/// The app for browserless chat clients: in-process on a real Kestrel port (its database is the test's to read),
/// replies from a scripted model host reached over HTTP, as a fleet reaches its model host; and further instances of
/// the same installation as processes of their own. No Chromium: the clients are <see cref="CircuitClient"/>s.
/// </summary>
public class LoadApp : AppFactory
{
    public ScriptedModelHostDouble Model { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    /// <summary>What every instance shares: one user per chat may send as fast as its replies end.</summary>
    private Dictionary<string, string> Shared() => new()
    {
        ["Plans:Free:ConcurrentReplies"] = "100",
        ["Plans:Free:RequestsPerMinute"] = "100000",
        ["Plans:Free:TokensPerMinute"] = "1000000000",
        ["Plans:Free:TokensPerDay"] = "1000000000",
        ["Plans:Free:Models:0"] = ScriptedModelHostDouble.Model,
        ["Inference:Hosts:0:Url"] = Model.Url,
        ["Inference:Hosts:0:Models:0"] = ScriptedModelHostDouble.Model,
        ["Inference:InProcess"] = "false", // the shipped model is not this installation's: the host's is
    };

    /// <summary>This app's Replies:Role: "All" unless a fleet's other instances run the replies.</summary>
    protected virtual string RepliesRole => "All";

    public override async Task InitializeAsync()
    {
        Model = await ScriptedModelHostDouble.StartAsync();
        foreach (var (key, value) in Shared())
            Set(key, value);
        Set("Replies:Role", RepliesRole);
        UseKestrel(0);
        await base.InitializeAsync();
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
    }

    /// <summary>Another instance of the installation: a process of its own on the same database, Redis and model host.</summary>
    public Task<WebProcess> StartInstanceAsync(IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = Shared();
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
            settings[key] = value;
        settings["ConnectionStrings:Postgres"] = ConnectionString;
        settings["Redis:Configuration"] = TestServices.Redis;
        settings["Replies:KeyPrefix"] = ReplyKeyPrefix;
        settings["SignIn:AttemptsPerMinute"] = "100000";
        settings["AllowedHosts"] = "*";
        return WebProcess.StartAsync(settings);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Model is not null)
            await Model.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
