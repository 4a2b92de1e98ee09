using System.ComponentModel.DataAnnotations;
using System.Net;

namespace ChatBlazor.Web.Security;

/// <summary>
/// ForwardedHeaders:KnownProxies (IP addresses) and ForwardedHeaders:KnownNetworks (CIDR ranges): the reverse proxies
/// whose X-Forwarded-For and X-Forwarded-Proto are believed. None by default, and then those headers are ignored,
/// because any client can send them: believing them would let a client choose its address (and so escape the
/// sign-in throttle) and claim HTTPS.
/// </summary>
public sealed class TrustedProxyOptions : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    public List<string> KnownProxies { get; set; } = [];
    public List<string> KnownNetworks { get; set; } = [];

    public bool IsConfigured => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < KnownProxies.Count; i++)
        {
            if (!IPAddress.TryParse(KnownProxies[i], out _))
                yield return new ValidationResult($"ForwardedHeaders:KnownProxies:{i} must be an IP address such as 10.0.0.5 (it is '{KnownProxies[i]}').", [nameof(KnownProxies)]);
        }
        for (var i = 0; i < KnownNetworks.Count; i++)
        {
            if (!IPNetwork.TryParse(KnownNetworks[i], out _))
                yield return new ValidationResult($"ForwardedHeaders:KnownNetworks:{i} must be a CIDR range such as 10.0.0.0/8 (it is '{KnownNetworks[i]}').", [nameof(KnownNetworks)]);
        }
    }
}
