using System.ComponentModel.DataAnnotations;

namespace ChatBlazor.Core.Replies;

/// <summary>What a web instance does with chat replies.</summary>
public enum InstanceRole
{
    /// <summary>Serves pages and the API, and runs reply jobs (./run.sh's one process).</summary>
    All,
    /// <summary>Serves pages and the API; other instances run the replies.</summary>
    Ui,
    /// <summary>Runs reply jobs only: no pages, no API (health answers).</summary>
    Worker,
}

/// <summary>The <c>Replies</c> section: how reply jobs are run and shared between instances.</summary>
public sealed class ReplyOptions : IValidatableObject
{
    public const string Section = "Replies";

    public InstanceRole Role { get; set; } = InstanceRole.All;

    /// <summary>Replies this instance runs at once (the engine batches them); more wait in the job queue.</summary>
    [Range(1, 1024, ErrorMessage = "Replies:Workers must be between 1 and 1024.")] public int Workers { get; set; } = 16;

    /// <summary>
    /// A running job renews its claim every quarter of this; one not renewed for this long lost its worker (a
    /// process killed, a machine gone) and another worker takes it over, continuing from the saved text.
    /// </summary>
    public TimeSpan ClaimAfter { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A running reply's text is saved to PostgreSQL at least this often while tokens arrive.</summary>
    public TimeSpan SaveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>At shutdown, running replies get this long to finish; the rest are handed to another worker.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs of a job before its reply is given up as failed (a reply that crashes every worker that takes it).</summary>
    [Range(1, 100, ErrorMessage = "Replies:MaxAttempts must be between 1 and 100.")] public int MaxAttempts { get; set; } = 5;

    /// <summary>Redis keys and channels start with this, so installations (or test runs) can share one Redis.</summary>
    [Required(ErrorMessage = "Replies:KeyPrefix must not be empty.")] public string KeyPrefix { get; set; } = "cb:";

    public bool RunsJobs => Role != InstanceRole.Ui;

    public TimeSpan HeartbeatInterval => ClaimAfter / 4;

    /// <summary>Unfinished replies silent this long, with no job left in the queue, are marked failed.</summary>
    public TimeSpan AbandonedAfter => ClaimAfter * 2 > TimeSpan.FromSeconds(30) ? ClaimAfter * 2 : TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ClaimAfter < TimeSpan.FromSeconds(1) || ClaimAfter > TimeSpan.FromHours(1))
            yield return new ValidationResult($"{Section}:ClaimAfter must be between 00:00:01 and 01:00:00 (it is {ClaimAfter}).", [nameof(ClaimAfter)]);
        if (SaveInterval < TimeSpan.Zero || SaveInterval > TimeSpan.FromMinutes(1))
            yield return new ValidationResult($"{Section}:SaveInterval must be between 00:00:00 and 00:01:00 (it is {SaveInterval}).", [nameof(SaveInterval)]);
        if (ShutdownGrace < TimeSpan.Zero || ShutdownGrace > TimeSpan.FromMinutes(10))
            yield return new ValidationResult($"{Section}:ShutdownGrace must be between 00:00:00 and 00:10:00 (it is {ShutdownGrace}).", [nameof(ShutdownGrace)]);
    }
}
