using System.ComponentModel.DataAnnotations;

namespace ChatBlazor.StripeEmulator;

/// <summary>The "Emulator" section; every key can be given on the command line as <c>--Emulator:Key=value</c>.</summary>
public sealed class EmulatorOptions : IValidatableObject
{
    public const string Section = "Emulator";

    /// <summary>The secret key clients must send as <c>Authorization: Bearer …</c>, like a Stripe test key.</summary>
    [Required(ErrorMessage = "Emulator:SecretKey is required (the key Stripe.net sends as its ApiKey).")]
    public string SecretKey { get; set; } = "sk_test_emulator";

    /// <summary>Where events are POSTed; without it events are kept (GET /v1/events) but not delivered.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The endpoint's signing secret (whsec_…), the one the receiver verifies with.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>A JSON file of products, meters and prices to create at start, with fixed ids (see <see cref="CatalogFile"/>).</summary>
    public string? CatalogFile { get; set; }

    [Range(1, 50, ErrorMessage = "Emulator:WebhookMaxAttempts must be between 1 and 50.")]
    public int WebhookMaxAttempts { get; set; } = 8;

    /// <summary>The wait before the first retry; each later retry waits twice as long as the one before.</summary>
    [Range(0.001, 3600, ErrorMessage = "Emulator:WebhookRetrySeconds must be between 0.001 and 3600.")]
    public double WebhookRetrySeconds { get; set; } = 2;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (WebhookUrl is not null && !Uri.TryCreate(WebhookUrl, UriKind.Absolute, out _))
            yield return new ValidationResult("Emulator:WebhookUrl must be an absolute URL.", [nameof(WebhookUrl)]);
        if (WebhookUrl is not null && string.IsNullOrEmpty(WebhookSecret))
            yield return new ValidationResult("Emulator:WebhookSecret is required when Emulator:WebhookUrl is set.",
                [nameof(WebhookSecret)]);
    }
}
