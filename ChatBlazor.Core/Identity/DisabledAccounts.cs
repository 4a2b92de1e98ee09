namespace ChatBlazor.Core.Identity;

/// <summary>
/// An account an administrator disabled is locked out with no end: LockoutEnd is <see cref="DateTimeOffset.MaxValue"/>.
/// A lockout after failed log-ins ends within minutes and does not count: anyone who knows the email can cause one,
/// and it must not switch off the owner's API keys.
/// </summary>
public static class DisabledAccounts
{
    public static readonly DateTimeOffset LockoutEnd = DateTimeOffset.MaxValue;

    // The database stores microseconds, so the end read back may be rounded below MaxValue: the year is what counts.
    public static bool IsDisabled(bool lockoutEnabled, DateTimeOffset? lockoutEnd) => lockoutEnabled && lockoutEnd is { Year: 9999 };
}
