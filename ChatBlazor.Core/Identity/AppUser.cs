using Microsoft.AspNetCore.Identity;

namespace ChatBlazor.Core.Identity;

public class AppUser : IdentityUser
{
    /// <summary>The user's colour scheme; null follows the browser's preference.</summary>
    public bool? PrefersDarkMode { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
