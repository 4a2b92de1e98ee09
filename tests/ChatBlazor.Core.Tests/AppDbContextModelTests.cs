using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Tests;

public class AppDbContextModelTests
{
    // Building the model needs no server: the connection string is never opened.
    private static AppDbContext Context() =>
        new(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql("Host=unused").Options);

    [Fact]
    public void DataProtectionKeysAreStoredSoEveryInstanceSharesThem()
    {
        using var db = Context();

        Assert.Equal("DataProtectionKeys", db.Model.FindEntityType(typeof(DataProtectionKey))!.GetTableName());
    }

    [Fact]
    public void ThemePreferenceCanBeUnsetToFollowTheBrowser()
    {
        using var db = Context();

        Assert.True(db.Model.FindEntityType(typeof(AppUser))!.FindProperty(nameof(AppUser.PrefersDarkMode))!.IsNullable);
    }
}
