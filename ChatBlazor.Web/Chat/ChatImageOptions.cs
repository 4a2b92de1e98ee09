using System.ComponentModel.DataAnnotations;

namespace ChatBlazor.Web.Chat;

/// <summary>Chat:ImageHosts: the hosts whose https images replies may show inline. None by default.</summary>
public sealed class ChatImageOptions : IValidatableObject
{
    public const string Section = "Chat";

    /// <summary>Host names such as images.example.com, matched exactly (no wildcards, no subdomains).</summary>
    public List<string> ImageHosts { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // They also go into the Content-Security-Policy header, so nothing but a plain host name may pass.
        for (var i = 0; i < ImageHosts.Count; i++)
        {
            if (Uri.CheckHostName(ImageHosts[i]) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
                yield return new ValidationResult($"Chat:ImageHosts:{i} must be a host name such as images.example.com (it is '{ImageHosts[i]}').", [nameof(ImageHosts)]);
        }
    }
}
