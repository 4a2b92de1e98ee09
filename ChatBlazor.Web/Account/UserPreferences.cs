using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Web.Account;

/// <summary>Per-user settings of the shell, stored on the user's row.</summary>
public sealed class UserPreferences(IDbContextFactory<AppDbContext> contexts)
{
    public async Task<bool?> GetDarkModeAsync(string userId)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.PrefersDarkMode).SingleOrDefaultAsync();
    }

    public async Task SetDarkModeAsync(string userId, bool darkMode)
    {
        await using var db = await contexts.CreateDbContextAsync();
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, darkMode));
    }
}
