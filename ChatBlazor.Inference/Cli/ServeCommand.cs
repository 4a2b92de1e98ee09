using System.ComponentModel.DataAnnotations;
using System.Net;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// <c>serve --model NAME=DIR [--model NAME=DIR]... --urls http://127.0.0.1:PORT [--max-running N] [--max-queued N] [--metrics-allow CIDR,...]</c>:
/// loads the models and answers the OpenAI API until Ctrl+C or SIGTERM. <c>/metrics</c> answers loopback and the
/// <c>--metrics-allow</c> networks only.
/// </summary>
internal static class ServeCommand
{
    internal sealed record ModelSpec(string Name, string Directory);

    internal sealed record Settings(IReadOnlyList<ModelSpec> Models, string Urls, EngineOptions Options, IReadOnlyList<IPNetwork> MetricsNetworks);

    // EngineOptions' property names, as the options a user typed.
    private static readonly Dictionary<string, string> OptionNames = new()
    {
        [nameof(EngineOptions.MaxRunningSequences)] = "--max-running",
        [nameof(EngineOptions.MaxQueuedRequests)] = "--max-queued",
    };

    public static async Task<int> RunAsync(Args args)
    {
        var settings = Parse(args);
        using var metrics = new EngineMetrics();
        using var engine = new InferenceEngine(settings.Models.Select(m => LoadedModel.Load(m.Directory, m.Name)), settings.Options, metrics);
        await using var app = OpenAiHost.Build(engine, metrics, settings.Urls, metricsNetworks: settings.MetricsNetworks);
        await app.RunAsync(); // ends on Ctrl+C or SIGTERM, after in-flight requests finish
        return 0;
    }

    internal static Settings Parse(Args args)
    {
        var specs = args.All("model");
        if (specs.Count == 0)
            throw new UsageException("--model NAME=DIR is required");
        var models = specs.Select(ParseModel).ToList();
        if (models.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw new UsageException($"--model: the name '{duplicate.Key}' is given twice");

        var urls = args.Required("urls");
        foreach (var url in urls.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // Plain HTTP only: TLS belongs to the proxy in front of a GPU box, and Kestrel would want a certificate.
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
                throw new UsageException($"--urls takes http://HOST:PORT addresses separated by ';', got '{url}'");
        }

        var defaults = new EngineOptions();
        var options = defaults with
        {
            MaxRunningSequences = args.Int("max-running") ?? defaults.MaxRunningSequences,
            MaxQueuedRequests = args.Int("max-queued") ?? defaults.MaxQueuedRequests,
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
        return new Settings(models, urls, options, networks);
    }

    private static ModelSpec ParseModel(string spec)
    {
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == spec.Length - 1)
            throw new UsageException($"--model takes NAME=DIR, got '{spec}'");
        var (name, directory) = (spec[..equals], spec[(equals + 1)..]);
        // The name travels in JSON and URLs as the OpenAI model id; keep it to what needs no escaping anywhere.
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/'))
            throw new UsageException($"--model: the name '{name}' may only use letters, digits and - _ . : /");
        if (!Directory.Exists(directory))
            throw new UsageException($"--model {name}: no directory '{directory}'");
        return new ModelSpec(name, directory);
    }
}
