using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Serving;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Inference;

/// <summary>Where the models come from: folders loaded into this process, and remote hosts.</summary>
public sealed class InferenceOptions : IValidatableObject
{
    public const string Section = "Inference";

    /// <summary>
    /// Models served in this process: name → Hugging Face model folder, relative to the app's folder unless absolute.
    /// appsettings.json names the shipped chatblazor-mini; a top-level <c>Models</c> section (<c>MODELS__name=/path</c>
    /// in the environment) adds more.
    /// </summary>
    public Dictionary<string, string> Models { get; set; } = [];

    /// <summary>
    /// How models in <see cref="Models"/> keep their weights: name → f32, bf16 or q8 (8-bit, the smallest and fastest
    /// to decode on a CPU), e.g. <c>Inference:WeightTypes:smol=q8</c> (<c>INFERENCE__WEIGHTTYPES__smol=q8</c> in the
    /// environment). A model not listed keeps them as its checkpoint stores them.
    /// </summary>
    public Dictionary<string, string> WeightTypes { get; set; } = [];

    /// <summary>The weight type configured for a model (validated at start), or as stored.</summary>
    public WeightType WeightTypeOf(string model) =>
        WeightTypes.TryGetValue(model, out var type) ? ChatBlazor.Inference.Models.WeightTypes.Parse(type) : WeightType.Stored;

    /// <summary>Hosts running <c>ChatBlazor.Inference serve</c> (or any OpenAI-compatible server), with the models to use there.</summary>
    public List<RemoteHost> Hosts { get; set; } = [];

    /// <summary>
    /// False on web instances of a fleet whose models run on inference hosts: no folder is loaded here, not even the
    /// one appsettings.json names, and a web instance stays small.
    /// </summary>
    public bool InProcess { get; set; } = true;

    [Range(1, 256)] public int MaxRunningSequences { get; set; } = 16;
    [Range(0, 100_000)] public int MaxQueuedRequests { get; set; } = 64;
    [Range(1L << 20, long.MaxValue)] public long KvCacheBytes { get; set; } = 1L << 30;

    /// <summary>How keys and values are kept: F16 (the default) holds twice the sequences of F32 in the same memory.</summary>
    [EnumDataType(typeof(KvType))] public KvType KvCacheType { get; set; } = KvType.F16;

    public static string FolderOf(string configured) => Path.GetFullPath(configured, AppContext.BaseDirectory);

    private static string? Problem(string weightType)
    {
        try
        {
            ChatBlazor.Inference.Models.WeightTypes.Parse(weightType);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, folder) in Models)
            if (!File.Exists(Path.Combine(FolderOf(folder), "config.json")))
                yield return new ValidationResult($"Inference:Models:{name} must be a Hugging Face model folder; {folder} has no config.json.");
        foreach (var (name, type) in WeightTypes)
        {
            if (!Models.ContainsKey(name))
                yield return new ValidationResult($"Inference:WeightTypes:{name} names no model in Inference:Models.");
            else if (Problem(type) is { } problem)
                yield return new ValidationResult($"Inference:WeightTypes:{name}: {problem}.");
        }
        for (var i = 0; i < Hosts.Count; i++)
        {
            var host = Hosts[i];
            var https = false;
            if (!Uri.TryCreate(host.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                yield return new ValidationResult($"Inference:Hosts:{i}:Url must be an http(s) URL, got '{host.Url}'.");
            else
                https = url.Scheme == Uri.UriSchemeHttps;
            if (host.Models.Count == 0)
                yield return new ValidationResult($"Inference:Hosts:{i}:Models must name at least one model served there.");
            for (var j = 0; j < host.Models.Count; j++)
                if (Models.ContainsKey(host.Models[j]))
                    yield return new ValidationResult($"Inference:Hosts:{i}:Models:{j} is '{host.Models[j]}', also a folder in Inference:Models: a model runs in this process or on hosts, not both (hosts may share one).");
            // The key itself never goes into a message: validation errors are logged.
            if (host.ApiKey is { } key && HostAccess.Problem(key) is { } problem)
                yield return new ValidationResult($"Inference:Hosts:{i}:ApiKey: {problem}.");
            if (host.CertificateFile is { } file)
            {
                if (!https)
                    yield return new ValidationResult($"Inference:Hosts:{i}:CertificateFile is only for an https Url.");
                else if (RemoteHost.LoadCertificates(file) is { Count: 0 })
                    yield return new ValidationResult($"Inference:Hosts:{i}:CertificateFile: '{file}' holds no PEM certificate.");
            }
        }
    }
}

/// <summary>
/// One inference host. Hosts that list the same model are its replicas: each request goes to one of them, and on to
/// another when it is down or full before the reply begins (<see cref="ModelRouter"/>).
/// </summary>
public sealed class RemoteHost
{
    public string Url { get; set; } = "";
    public List<string> Models { get; set; } = [];
    /// <summary>The models' context window, for prompt budgeting; the host's own figure is not fetched at start.</summary>
    public int ContextWindow { get; set; } = 4096;
    /// <summary>The host's <c>--api-key-file</c> key, sent as <c>Authorization: Bearer</c> on every request to it.</summary>
    public string? ApiKey { get; set; }
    /// <summary>What logs and the health page call the host (its URL unless set), e.g. <c>gpu-a</c>.</summary>
    public string? Name { get; set; }
    /// <summary>
    /// A PEM file with the certificate (a self-signed one, or the private CA that issued it) this https host's
    /// certificate must chain to; trusted for this host only, in place of the system's CAs.
    /// </summary>
    public string? CertificateFile { get; set; }

    /// <summary>The certificates of a PEM file; empty when it has none or cannot be read.</summary>
    public static X509Certificate2Collection LoadCertificates(string file)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(InferenceOptions.FolderOf(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            certificates.Clear();
        }
        return certificates;
    }
}

public static class InferenceExtensions
{
    /// <summary>
    /// One <see cref="IInferenceEngine"/> for the app: the embedded engine for local model folders and a client per
    /// remote host, behind a router (<see cref="ModelHosting"/>), with the admins' model settings applied from the
    /// database on every instance and each model's live state read in the background. Models load when the engine is first needed: at start when serving (the reply
    /// worker needs it), never for operator commands.
    /// </summary>
    public static void AddInference(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section)
            .PostConfigure(options =>
            {
                foreach (var model in builder.Configuration.GetSection("Models").GetChildren())
                    options.Models[model.Key] = model.Value ?? "";
                if (!options.InProcess)
                {
                    options.Models.Clear();
                    options.WeightTypes.Clear();
                }
            })
            .ValidateDataAnnotations().ValidateOnStart();
        // Its logging redacts every header's value (the default since .NET 9): the hosts' keys never reach a log.
        builder.Services.AddHttpClient(nameof(RemoteEngine), http => http.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton<InferenceEngine>(services =>
        {
            var options = services.GetRequiredService<IOptions<InferenceOptions>>().Value;
            var models = options.Models.Select(m => LoadedModel.Load(InferenceOptions.FolderOf(m.Value), m.Key, weightType: options.WeightTypeOf(m.Key)));
            return new InferenceEngine(models, new EngineOptions
            {
                MaxRunningSequences = options.MaxRunningSequences,
                MaxQueuedRequests = options.MaxQueuedRequests,
                KvCacheBytes = options.KvCacheBytes,
                KvType = options.KvCacheType,
            });
        });
        builder.Services.AddSingleton<ModelHosting>();
        builder.Services.AddSingleton<IModelHosting>(services => services.GetRequiredService<ModelHosting>());
        builder.Services.AddSingleton<IInferenceEngine>(services => services.GetRequiredService<ModelHosting>().Router);
        builder.Services.AddSingleton<ModelStates>();
        builder.Services.AddSingleton<IModelStates>(services => services.GetRequiredService<ModelStates>());
        builder.Services.AddHostedService(services => services.GetRequiredService<ModelStates>());
        builder.Services.AddModelRouting();
    }
}
