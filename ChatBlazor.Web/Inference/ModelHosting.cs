using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Serving;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Inference;

/// <summary>Where a model comes from, for the console.</summary>
public enum ModelSource
{
    /// <summary>A folder in <c>Inference:Models</c>, run in this process.</summary>
    ConfiguredFolder,
    /// <summary>A model of a host in <c>Inference:Hosts</c>.</summary>
    ConfiguredHost,
    /// <summary>A folder an admin added at run time, run in this process.</summary>
    AddedFolder,
    /// <summary>A remote host an admin added at run time.</summary>
    AddedHost,
}

/// <summary>A model the app can use, whether or not it is loaded now: its name, source, location and window (0: unknown until loaded).</summary>
public sealed record KnownModel(string Name, ModelSource Source, string Location, int ContextWindow)
{
    public bool InProcess => Source is ModelSource.ConfiguredFolder or ModelSource.AddedFolder;
}

/// <summary>A remote host's client (with its key and trusted certificate), kept so its status can be read beside its completions.</summary>
/// <param name="Name">What logs and the health page call it: its configured name, or else its URL.</param>
public sealed record RemoteHostClient(string Name, string Url, HttpClient Http, RemoteEngine Engine);

/// <summary>
/// The models this instance serves, brought in line with the admins' settings on every reload: the embedded engine
/// (configured folders and added ones, each loaded unless an admin unloaded it) and a client per remote host
/// (configured and added), all behind one <see cref="ModelRouter"/>. Configured hosts that list the same model are its
/// replicas; a model runs either in this process or on hosts, never both (options validation refuses it, and an added
/// host whose model is served here is not added).
/// </summary>
public sealed class ModelHosting : IModelHosting
{
    private readonly InferenceOptions _options;
    private readonly IHttpClientFactory _http;
    private readonly ILogger<ModelHosting> _log;
    private readonly SemaphoreSlim _applying = new(1, 1);
    private readonly Dictionary<string, RemoteHostClient> _added = new(StringComparer.Ordinal); // by model name
    private ModelSettingsSnapshot _settings = ModelSettingsSnapshot.Empty;

    public ModelHosting(InferenceEngine embedded, IOptions<InferenceOptions> options, IHttpClientFactory http, ILogger<ModelHosting> log, ILogger<ModelRouter> routerLog)
    {
        (Embedded, _options, _http, _log) = (embedded, options.Value, http, log);
        ConfiguredHosts = [.. _options.Hosts.Select(Connect)];
        Router = new ModelRouter([embedded, .. ConfiguredHosts.Select(h => h.Engine)], routerLog);
    }

    public ModelRouter Router { get; }

    public InferenceEngine Embedded { get; }

    public IReadOnlyList<RemoteHostClient> ConfiguredHosts { get; }

    /// <summary>Every remote host client: configured and added.</summary>
    public IReadOnlyList<RemoteHostClient> Remotes
    {
        get
        {
            lock (_added)
                return [.. ConfiguredHosts, .. _added.Values];
        }
    }

    /// <summary>Every model the app can use, loaded or not: configuration first, then those added at run time.</summary>
    public IReadOnlyList<KnownModel> Known()
    {
        var served = Router.Models.ToDictionary(m => m.Name, m => m.ContextWindow, StringComparer.Ordinal);
        var known = new List<KnownModel>();
        foreach (var (name, folder) in _options.Models)
            known.Add(new KnownModel(name, ModelSource.ConfiguredFolder, InferenceOptions.FolderOf(folder), served.GetValueOrDefault(name)));
        // A model on several hosts (replicas) is one model: one row, every host where it runs.
        foreach (var replicas in _options.Hosts.SelectMany(h => h.Models.Select(m => (Model: m, Host: h))).GroupBy(r => r.Model, StringComparer.Ordinal))
            known.Add(new KnownModel(replicas.Key, ModelSource.ConfiguredHost,
                string.Join(", ", replicas.Select(r => r.Host.Name is { } name ? $"{name} ({r.Host.Url})" : r.Host.Url)), replicas.First().Host.ContextWindow));
        foreach (var setting in _settings.Models.Values.Where(s => s.AddedAtRunTime && known.All(k => k.Name != s.Name)).OrderBy(s => s.Name))
            known.Add(setting.Folder is { } folder
                ? new KnownModel(setting.Name, ModelSource.AddedFolder, folder, served.GetValueOrDefault(setting.Name))
                : new KnownModel(setting.Name, ModelSource.AddedHost, setting.HostUrl!, setting.ContextWindow ?? 0));
        return known;
    }

    public bool IsConfigured(string model) => _options.Models.ContainsKey(model) || _options.Hosts.Any(h => h.Models.Contains(model));

    public bool IsLoaded(string model) => Embedded.Models.Any(m => m.Name == model);

    public async Task ApplyAsync(ModelSettingsSnapshot settings, CancellationToken ct)
    {
        await _applying.WaitAsync(ct);
        try
        {
            _settings = settings;
            ApplyHosts(settings);
            await ApplyFoldersAsync(settings, ct);
        }
        finally
        {
            _applying.Release();
        }
    }

    private void ApplyHosts(ModelSettingsSnapshot settings)
    {
        lock (_added)
        {
            foreach (var (name, client) in _added.ToArray())
                if (settings.For(name) is not { HostUrl: { } url } setting || url != client.Url || setting.ContextWindow != client.Engine.Models[0].ContextWindow)
                {
                    Router.Remove(client.Engine);
                    _added.Remove(name);
                }
            foreach (var setting in settings.Models.Values.Where(s => s.HostUrl is not null && !_added.ContainsKey(s.Name) && !IsConfigured(s.Name)))
            {
                if (IsLoaded(setting.Name))
                {
                    _log.LogError("Added host model {Model} clashes with a model served in this process; not added", setting.Name);
                    continue;
                }
                var client = Connect(new RemoteHost { Url = setting.HostUrl!, Models = [setting.Name], ContextWindow = setting.ContextWindow ?? 4096 });
                Router.Add(client.Engine);
                _added[setting.Name] = client;
            }
        }
    }

    private async Task ApplyFoldersAsync(ModelSettingsSnapshot settings, CancellationToken ct)
    {
        var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, folder) in _options.Models)
            wanted[name] = InferenceOptions.FolderOf(folder);
        foreach (var setting in settings.Models.Values.Where(s => s.Folder is not null && !IsConfigured(s.Name)))
            wanted[setting.Name] = setting.Folder!;
        foreach (var (name, folder) in wanted)
        {
            var unloaded = settings.For(name)?.Unloaded ?? false;
            if (unloaded && IsLoaded(name))
            {
                Embedded.Unload(name);
                _log.LogInformation("Model {Model} unloaded", name);
            }
            else if (!unloaded && !IsLoaded(name) && Router.Models.All(m => m.Name != name))
            {
                try
                {
                    // Reading the weights takes seconds: off the caller's thread.
                    var model = await Task.Run(() => LoadedModel.Load(folder, name, weightType: _options.WeightTypeOf(name)), ct);
                    Embedded.Load(model);
                    _log.LogInformation("Model {Model} loaded from {Folder}", name, folder);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    _log.LogError(e, "Model {Model} could not be loaded from {Folder}", name, folder);
                }
            }
        }
        foreach (var model in Embedded.Models.Select(m => m.Name).Where(m => !wanted.ContainsKey(m)).ToArray())
            Embedded.Unload(model); // an added folder an admin removed
    }

    private RemoteHostClient Connect(RemoteHost host)
    {
        var client = host.CertificateFile is { } file ? Pinned(file) : _http.CreateClient(nameof(RemoteEngine));
        client.BaseAddress = new Uri(host.Url);
        if (host.ApiKey is { } key)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new RemoteHostClient(host.Name ?? host.Url, host.Url, client, new RemoteEngine(client, [.. host.Models.Select(m => new ModelInfo(m, host.ContextWindow))]));
    }

    /// <summary>
    /// A client of its own for a host whose certificate chains to the file's (a self-signed one, or a private CA):
    /// that trust is this host's alone, and host names are still checked. It lives as long as the app, as the
    /// factory's clients do; connections are renewed so a changed DNS entry is seen.
    /// </summary>
    private static HttpClient Pinned(string file)
    {
        var trust = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck, // a private CA publishes no revocation list
        };
        trust.CustomTrustStore.AddRange(RemoteHost.LoadCertificates(file));
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = trust },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
