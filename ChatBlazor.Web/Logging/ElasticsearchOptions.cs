using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Logging;

/// <summary>
/// <c>Elasticsearch:*</c>: where log events are shipped as ECS documents. Unset <see cref="Url"/>: logs go to stdout only.
/// </summary>
public sealed class ElasticsearchOptions
{
    public const string Section = "Elasticsearch";

    /// <summary>The cluster's base URL, e.g. https://es.example.com:9200 (documents go to {Url}/{Index}/_bulk).</summary>
    public string Url { get; set; } = "";

    /// <summary>An API key (the base64 "encoded" form Elasticsearch returns), sent as <c>Authorization: ApiKey …</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Basic authentication, with <see cref="Password"/>; not together with <see cref="ApiKey"/>.</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>A data stream or index. The default matches Elasticsearch's built-in <c>logs-*-*</c> template, so it
    /// is created on the first write with ECS mappings and nothing has to be set up (no template calls are made).</summary>
    public string Index { get; set; } = "logs-chatblazor-default";

    /// <summary>ECS <c>service.name</c>: which program wrote the line.</summary>
    public string ServiceName { get; set; } = "chatblazor-web";

    /// <summary>Events held in memory while Elasticsearch is slow or down; beyond that new ones are dropped (and counted).</summary>
    [Range(10, 1_000_000)]
    public int QueueLimit { get; set; } = 20_000;

    /// <summary>Events per <c>_bulk</c> request.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>The longest wait between two tries while Elasticsearch fails; the wait doubles from 100 ms up to this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Url);
}

/// <summary>A URL when set, one way to authenticate, and an index name Elasticsearch accepts: checked at start.</summary>
internal sealed class ElasticsearchOptionsValidation : IValidateOptions<ElasticsearchOptions>
{
    public ValidateOptionsResult Validate(string? name, ElasticsearchOptions o)
    {
        if (!o.IsConfigured)
            return ValidateOptionsResult.Success;
        if (!Uri.TryCreate(o.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Query.Length > 0 || url.Fragment.Length > 0)
            return ValidateOptionsResult.Fail($"Elasticsearch:Url must be an absolute http or https URL without query, such as https://es.example.com:9200 (it is '{o.Url}').");
        if (url.UserInfo.Length > 0)
            return ValidateOptionsResult.Fail("Elasticsearch:Url must not carry credentials; set Elasticsearch:ApiKey, or Elasticsearch:UserName and Elasticsearch:Password.");
        if (!string.IsNullOrEmpty(o.ApiKey) && !string.IsNullOrEmpty(o.UserName))
            return ValidateOptionsResult.Fail("Set either Elasticsearch:ApiKey or Elasticsearch:UserName/Password, not both.");
        if (string.IsNullOrEmpty(o.UserName) != string.IsNullOrEmpty(o.Password))
            return ValidateOptionsResult.Fail("Elasticsearch:UserName and Elasticsearch:Password go together: set both or neither.");
        if (IndexProblem(o.Index) is { } problem)
            return ValidateOptionsResult.Fail($"Elasticsearch:Index '{o.Index}' {problem}.");
        return ValidateOptionsResult.Success;
    }

    // Elasticsearch's own rules for index and data stream names.
    private static string? IndexProblem(string index) =>
        string.IsNullOrEmpty(index) ? "is empty"
        : index != index.ToLowerInvariant() ? "must be lower case"
        : index.IndexOfAny(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) >= 0 ? "must not contain \\ / * ? \" < > | , # : or spaces"
        : index[0] is '-' or '_' or '+' || index is "." or ".." ? "must not start with - _ + or be . or .."
        : System.Text.Encoding.UTF8.GetByteCount(index) > 255 ? "is longer than 255 bytes"
        : null;
}
