using Microsoft.AspNetCore.Identity;

namespace ChatBlazor.Core.Identity;

public class AppUser : IdentityUser
{
    /// <summary>The user's colour scheme; null follows the browser's preference.</summary>
    public bool? PrefersDarkMode { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The plan that sets the user's limits (Plans:&lt;Name&gt;); null is Plans:DefaultPlan.</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(32)]
    public string? Plan { get; set; }
}
