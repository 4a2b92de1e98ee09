using Microsoft.AspNetCore.Identity;

namespace ChatBlazor.Core.Identity;

public class AppUser : IdentityUser
{
    /// <summary>The user's colour scheme; null follows the browser's preference.</summary>
    public bool? PrefersDarkMode { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// The plan that sets the user's limits (Plans:&lt;Name&gt;): Plans:DefaultPlan's when the account is made. Null (accounts
    /// from before plans) and names no longer configured count as today's default plan.
    /// </summary>
    [System.ComponentModel.DataAnnotations.MaxLength(32)]
    public string? Plan { get; set; }

    /// <summary>When the user last sent a message or called the API (updated at most every few minutes).</summary>
    public DateTimeOffset? LastActiveAt { get; set; }

    // An admin's override of the plan's limits for this user alone; null keeps the plan's figure.
    public long? RequestsPerMinuteOverride { get; set; }
    public long? TokensPerMinuteOverride { get; set; }
    public long? TokensPerDayOverride { get; set; }
}
