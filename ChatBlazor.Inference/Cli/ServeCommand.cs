using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// <c>serve --model NAME=DIR[:f32|:bf16|:q8] [--model ...]... [--dtype f32|bf16|q8] --urls http(s)://HOST:PORT [--max-running N] [--max-queued N]
/// [--metrics-allow CIDR,...] [--api-key-file PATH] [--ops-urls URL] [--tls-cert PEM --tls-key PEM]</c>: loads the models
/// and answers the OpenAI API until Ctrl+C or SIGTERM. A model's weights are kept as its <c>:TYPE</c> suffix says, else
/// as <c>--dtype</c> says, else as stored. <c>/metrics</c> answers loopback, the <c>--metrics-allow</c>
/// networks and callers with the key on the main addresses, anyone on the ops addresses (<see cref="HostAccess"/>).
/// The key comes from <c>--api-key-file</c>, or else from <c>CHATBLAZOR_INFERENCE_API_KEY</c>: the option wins, as
/// what is typed for this one command is more specific than what the environment carries for all of them.
/// </summary>
internal static class ServeCommand
{
    internal sealed record ModelSpec(string Name, string Directory, WeightType WeightType = WeightType.Stored);

    internal sealed record Settings(IReadOnlyList<ModelSpec> Models, string Urls, EngineOptions Options, IReadOnlyList<IPNetwork> MetricsNetworks, HostAccess Access);

    // EngineOptions' property names, as the options a user typed.
    private static readonly Dictionary<string, string> OptionNames = new()
    {
        [nameof(EngineOptions.MaxRunningSequences)] = "--max-running",
        [nameof(EngineOptions.MaxQueuedRequests)] = "--max-queued",
    };

    public static async Task<int> RunAsync(Args args)
    {
        var settings = Parse(args, Environment.GetEnvironmentVariable(HostAccess.ApiKeyVariable));
        using var metrics = new EngineMetrics();
        using var engine = new InferenceEngine(settings.Models.Select(m => LoadedModel.Load(m.Directory, m.Name, weightType: m.WeightType)), settings.Options, metrics);
        await using var app = OpenAiHost.Build(engine, metrics, settings.Urls, metricsNetworks: settings.MetricsNetworks, access: settings.Access);
        await app.RunAsync(); // ends on Ctrl+C or SIGTERM, after in-flight requests finish
        return 0;
    }

    /// <summary>--kv-dtype: f32, f16 or bf16, or null when not given.</summary>
    internal static KvType? ParseKvType(string? text) => text switch
    {
        null => null,
        "f32" => KvType.F32,
        "bf16" => KvType.Bf16,
        "f16" => KvType.F16,
        _ => throw new UsageException($"--kv-dtype must be f32, f16 or bf16, got '{text}'"),
    };

    /// <param name="environmentKey">The value of <c>CHATBLAZOR_INFERENCE_API_KEY</c>, if set.</param>
    internal static Settings Parse(Args args, string? environmentKey = null)
    {
        var specs = args.All("model");
        if (specs.Count == 0)
            throw new UsageException("--model NAME=DIR is required");
        var dtype = DtypeOption.Read(args);
        var models = specs.Select(s => ParseModel(s, dtype)).ToList();
        if (models.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw new UsageException($"--model: the name '{duplicate.Key}' is given twice");

        var urls = args.Required("urls");
        var opsUrls = args.String("ops-urls");
        var https = CheckUrls("urls", urls) | (opsUrls is not null && CheckUrls("ops-urls", opsUrls));
        var certificate = Certificate(args, https);

        var defaults = new EngineOptions();
        var options = defaults with
        {
            MaxRunningSequences = args.Int("max-running") ?? defaults.MaxRunningSequences,
            MaxQueuedRequests = args.Int("max-queued") ?? defaults.MaxQueuedRequests,
            KvType = ParseKvType(args.String("kv-dtype")) ?? defaults.KvType,
        };
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true))
        {
            var problem = problems[0];
            var option = problem.MemberNames.Select(n => OptionNames.GetValueOrDefault(n)).FirstOrDefault(n => n is not null) ?? "options";
            throw new UsageException($"{option}: {problem.ErrorMessage}");
        }
        IReadOnlyList<IPNetwork> networks;
        try
        {
            networks = MetricsEndpoint.ParseNetworks(args.All("metrics-allow").SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries)), "--metrics-allow");
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        return new Settings(models, urls, options, networks, new HostAccess(ApiKey(args, environmentKey), opsUrls, certificate));
    }

    /// <summary>Throws a usage error for an address that is not http(s)://HOST:PORT; true when one is https.</summary>
    private static bool CheckUrls(string option, string urls)
    {
        var https = false;
        foreach (var url in HostAccess.SplitUrls(urls))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
                throw new UsageException($"--{option} takes http(s)://HOST:PORT addresses separated by ';', got '{url}'");
            https |= uri.Scheme == Uri.UriSchemeHttps;
        }
        return https;
    }

    private static X509Certificate2? Certificate(Args args, bool https)
    {
        var (cert, key) = (args.String("tls-cert"), args.String("tls-key"));
        if (cert is null && key is null)
            return https ? throw new UsageException("--urls: an https address (in --urls or --ops-urls) needs --tls-cert PEM and --tls-key PEM") : null;
        if (cert is null || key is null)
            throw new UsageException("--tls-cert and --tls-key go together: the certificate and its private key, both PEM");
        if (!https)
            throw new UsageException("--tls-cert: no https address in --urls or --ops-urls would use it");
        try
        {
            return X509Certificate2.CreateFromPemFile(cert, key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new UsageException($"--tls-cert {cert} --tls-key {key}: not a PEM certificate and its private key ({e.Message})");
        }
    }

    private static string? ApiKey(Args args, string? environmentKey)
    {
        var (source, key) = args.String("api-key-file") is { } file ? ($"--api-key-file {file}", ReadKey(file)) : (HostAccess.ApiKeyVariable, environmentKey?.Trim());
        if (key is null)
            return null;
        return HostAccess.Problem(key) is { } problem ? throw new UsageException($"{source}: {problem}") : key;
    }

    private static string ReadKey(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim(); // editors and echo end the file with a newline
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--api-key-file: cannot read '{file}' ({e.Message})");
        }
    }

    private static ModelSpec ParseModel(string spec, WeightType dtype)
    {
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == spec.Length - 1)
            throw new UsageException($"--model takes NAME=DIR or NAME=DIR:TYPE, got '{spec}'");
        var (name, directory) = (spec[..equals], spec[(equals + 1)..]);
        // DIR:TYPE, unless the whole is a folder or what follows the last colon is a path (a folder named a:b/c).
        var colon = directory.LastIndexOf(':');
        if (colon > 0 && !Directory.Exists(directory) && directory[(colon + 1)..].IndexOfAny(['/', '\\']) < 0)
            (directory, dtype) = (directory[..colon], DtypeOption.Parse(directory[(colon + 1)..], $"--model {name}"));
        // The name travels in JSON and URLs as the OpenAI model id; keep it to what needs no escaping anywhere.
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/'))
            throw new UsageException($"--model: the name '{name}' may only use letters, digits and - _ . : /");
        if (!Directory.Exists(directory))
            throw new UsageException($"--model {name}: no directory '{directory}'");
        return new ModelSpec(name, directory, dtype);
    }
}
