using System.ComponentModel.DataAnnotations;
using System.Net;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Web.Telemetry;

/// <summary>Metrics and traces (section <c>Telemetry</c>).</summary>
public sealed class TelemetryOptions : IValidatableObject
{
    public const string Section = "Telemetry";

    /// <summary>Off: no instrumentation, no <c>/metrics</c>, no OTLP (the overhead benchmark compares both).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Networks in CIDR notation, besides loopback, whose callers may read <c>/metrics</c> (the Prometheus servers).</summary>
    public string[] MetricsAllowedNetworks { get; set; } = [];

    public IReadOnlyList<IPNetwork> Networks() => MetricsEndpoint.ParseNetworks(MetricsAllowedNetworks, $"{Section}:{nameof(MetricsAllowedNetworks)}");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? problem = null;
        try
        {
            Networks();
        }
        catch (FormatException e)
        {
            problem = e.Message;
        }
        if (problem is not null)
            yield return new ValidationResult(problem, [nameof(MetricsAllowedNetworks)]);
    }
}
