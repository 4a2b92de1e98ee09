using System.Net;
using System.Security.Cryptography;
using System.Text;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Testing;
using ChatBlazor.Web.Operator;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.Web.Tests;

public class OperatorCommandTests(OperatorCommandTests.Factory app) : IClassFixture<OperatorCommandTests.Factory>
{
    private static readonly string AdminEmail = $"boss-{Guid.NewGuid():N}@example.com";

    public sealed class Factory : AppFactory
    {
        public Factory()
        {
            Set("CHATBLAZOR_ADMIN_EMAIL", AdminEmail);
            Set("CHATBLAZOR_ADMIN_PASSWORD", "B0ss!pass");
            Set("App:PublicUrl", "https://chat.example.com");
        }
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var command = OperatorCommand.Parse(args);
        Assert.NotNull(command);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await command.RunAsync(app.Services, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<IList<string>> RolesOfAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        return await users.GetRolesAsync((await users.FindByEmailAsync(email))!);
    }

    [Fact]
    public void ServingIsNotACommand() => Assert.Null(OperatorCommand.Parse(["--urls", "http://127.0.0.1:5000"]));

    [Fact]
    public async Task CreateUserWithRoleAdminMakesAnAdmin()
    {
        var email = $"ops-{Guid.NewGuid():N}@example.com";

        var (exit, output, _) = await RunAsync("admin", "create-user", "--email", email, "--password", "Adm1n!pass", "--role", "Admin");

        Assert.Equal(0, exit);
        Assert.Contains(email, output);
        Assert.Equal([Roles.Admin, Roles.User], (await RolesOfAsync(email)).Order());
    }

    [Fact]
    public async Task CreateUserRefusesADuplicateEmail()
    {
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        await RunAsync("admin", "create-user", "--email", email, "--password", "Adm1n!pass");

        var (exit, _, error) = await RunAsync("admin", "create-user", "--email", email, "--password", "Adm1n!pass");

        Assert.Equal(1, exit);
        Assert.Contains("already exists", error);
    }

    [Fact]
    public async Task CreateUserRefusesAWeakPasswordAndSaysWhy()
    {
        var (exit, _, error) = await RunAsync("admin", "create-user", "--email", $"weak-{Guid.NewGuid():N}@example.com", "--password", "abc");

        Assert.Equal(1, exit);
        Assert.Contains("Passwords must be at least 8 characters", error);
    }

    [Fact]
    public async Task CreateApiKeyPrintsAKeyThatWorksAndOnlyItsHashIsStored()
    {
        var email = $"keys-{Guid.NewGuid():N}@example.com";
        await RunAsync("admin", "create-user", "--email", email, "--password", "Adm1n!pass");

        var (exit, output, error) = await RunAsync("admin", "create-api-key", "--email", email, "--name", "deploy bot");

        Assert.Equal(0, exit);
        var key = output.Trim();
        Assert.Matches("^cb-[A-Za-z0-9_-]{43}$", key); // the key alone on stdout, for scripts
        Assert.Contains("deploy bot", error);
        var owner = await app.Services.GetRequiredService<ApiKeyStore>().AuthenticateAsync(key);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var user = await db.Users.SingleAsync(u => u.Email == email);
        Assert.Equal(user.Id, owner!.UserId);
        var row = await db.ApiKeys.SingleAsync(k => k.UserId == user.Id);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), row.Hash);
        Assert.Equal((key[..11], "deploy bot"), (row.Prefix, row.Name));
        Assert.Null(await app.Services.GetRequiredService<ApiKeyStore>().AuthenticateAsync(key[..^1] + (key[^1] == 'A' ? 'B' : 'A')));
    }

    [Fact]
    public async Task CreateApiKeyForAnUnknownEmailSaysSo()
    {
        var (exit, _, error) = await RunAsync("admin", "create-api-key", "--email", "nobody-here@example.com", "--name", "x");

        Assert.Equal(1, exit);
        Assert.Contains("No user has the email nobody-here@example.com", error);
    }

    private async Task<string> NewUserAsync(string password = "Adm1n!pass")
    {
        var email = $"ops-{Guid.NewGuid():N}@example.com";
        Assert.Equal(0, (await RunAsync("admin", "create-user", "--email", email, "--password", password)).Exit);
        return email;
    }

    private async Task<(AppUser User, bool Checks)> PasswordChecksAsync(string email, string password)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = (await users.FindByEmailAsync(email))!;
        return (user, await users.CheckPasswordAsync(user, password));
    }

    [Fact]
    public async Task ResetPasswordSetsATemporaryPasswordPrintsItAndSaysToChangeIt()
    {
        var email = await NewUserAsync();
        var stampBefore = (await PasswordChecksAsync(email, "")).User.SecurityStamp;

        var (exit, output, error) = await RunAsync("admin", "reset-password", "--email", email);

        Assert.Equal(0, exit);
        var password = output.Trim(); // the password alone on stdout, for scripts
        Assert.True((await PasswordChecksAsync(email, password)).Checks);
        Assert.False((await PasswordChecksAsync(email, "Adm1n!pass")).Checks);
        Assert.NotEqual(stampBefore, (await PasswordChecksAsync(email, "")).User.SecurityStamp); // other sessions end
        Assert.Contains("change it at once under their account", error);
    }

    [Fact]
    public async Task ResetPasswordWithLinkPrintsALinkFromThePublicUrlThatWorksOnce()
    {
        var email = await NewUserAsync();

        var (exit, output, error) = await RunAsync("admin", "reset-password", "--email", email, "--link");

        Assert.Equal(0, exit);
        var link = output.Trim();
        Assert.StartsWith("https://chat.example.com/Account/ResetPassword?code=", link);
        Assert.True((await PasswordChecksAsync(email, "Adm1n!pass")).Checks); // nothing changed until the link is used
        Assert.Contains("one-time", error);
        async Task<string> UseAsync(string password) => WebUtility.HtmlDecode(await (await FormClient.SubmitAsync(app.CreateClient(),
            new Uri(link).PathAndQuery, new() { ["Input.Email"] = email, ["Input.Password"] = password })).Content.ReadAsStringAsync());
        Assert.Contains("your password is changed", await UseAsync("N3w!password"));
        Assert.True((await PasswordChecksAsync(email, "N3w!password")).Checks);
        Assert.Contains("Invalid token", await UseAsync("Th1rd!password"));
        Assert.False((await PasswordChecksAsync(email, "Th1rd!password")).Checks);
    }

    [Fact]
    public async Task DisableUserLocksTheAccountForGoodEndsSessionsAndRefusesItsApiKey()
    {
        var email = await NewUserAsync();
        var key = (await RunAsync("admin", "create-api-key", "--email", email, "--name", "bot")).Output.Trim();
        var stampBefore = (await PasswordChecksAsync(email, "")).User.SecurityStamp;

        var (exit, output, _) = await RunAsync("admin", "disable-user", "--email", email);

        Assert.Equal(0, exit);
        Assert.Contains($"Suspended {email}", output);
        var user = (await PasswordChecksAsync(email, "")).User;
        Assert.True(user.LockoutEnabled);
        Assert.Equal(9999, user.LockoutEnd!.Value.Year);
        Assert.NotEqual(stampBefore, user.SecurityStamp); // cookies fail their next revalidation
        Assert.Null(await app.Services.GetRequiredService<ApiKeyStore>().AuthenticateAsync(key));

        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var refused = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("This account has been suspended", await refused.Content.ReadAsStringAsync());

        // The owner (right password) is told why; a stranger guessing sees the lockout page, as for any locked account.
        var logIn = await FormClient.SubmitAsync(app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }),
            "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = "Adm1n!pass" });
        Assert.Contains("This account has been suspended by an administrator", System.Net.WebUtility.HtmlDecode(await logIn.Content.ReadAsStringAsync()));
        var guess = await FormClient.SubmitAsync(app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }),
            "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = "wrong-Pass1" });
        Assert.EndsWith("Account/Lockout", guess.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("reset-password")]
    [InlineData("disable-user")]
    [InlineData("suspend-user")]
    [InlineData("unsuspend-user")]
    public async Task ResetPasswordAndDisableUserForAnUnknownEmailSaySo(string command)
    {
        var (exit, _, error) = await RunAsync("admin", command, "--email", "nobody-here@example.com");

        Assert.Equal(1, exit);
        Assert.Contains("No user has the email nobody-here@example.com", error);
    }

    [Theory]
    [InlineData("admin", "create-user", "--email", "x@example.com")]
    [InlineData("admin", "reset-password")]
    [InlineData("admin", "reset-password", "--email", "x@example.com", "--link", "yes")]
    [InlineData("admin", "disable-user", "--email")]
    [InlineData("admin", "create-user", "--email", "x@example.com", "--password", "Adm1n!pass", "--role", "Owner")]
    [InlineData("admin", "delete-everything")]
    public async Task BadArgumentsExitWithCode2AndUsage(params string[] args)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains("Usage:", error);
    }

    [Fact]
    public async Task MigrateCreatesTheNamedAdminOnceAndPrintsNoPasswordItWasGiven()
    {
        var first = await RunAsync("migrate");
        var second = await RunAsync("migrate");

        Assert.Equal(0, first.Exit);
        Assert.Contains($"Created admin account {AdminEmail}", first.Output);
        Assert.DoesNotContain("B0ss!pass", first.Output);
        Assert.DoesNotContain("Created admin", second.Output);
        Assert.Contains(Roles.Admin, await RolesOfAsync(AdminEmail));
    }
}

/// <summary>CHATBLAZOR_ADMIN_EMAIL names an admin to create, never an account someone already has.</summary>
public class AdminBootstrapTests(AdminBootstrapTests.Factory app) : IClassFixture<AdminBootstrapTests.Factory>
{
    private static readonly string NamedEmail = $"squatter-{Guid.NewGuid():N}@example.com";

    public sealed class Factory : AppFactory
    {
        public Factory() => Set("CHATBLAZOR_ADMIN_EMAIL", NamedEmail);
    }

    [Fact]
    public async Task MigrateLeavesASelfRegisteredAccountWithTheAdminEmailAsItIsAndWarns()
    {
        var browser = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await FormClient.SubmitAsync(browser, "/Account/Register", new()
        {
            ["Input.Email"] = NamedEmail, ["Input.Password"] = "Str0ng!pass", ["Input.ConfirmPassword"] = "Str0ng!pass",
        });
        var (output, error) = (new StringWriter(), new StringWriter());

        var exit = await OperatorCommand.Parse(["migrate"])!.RunAsync(app.Services, output, error);

        Assert.Equal(0, exit);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.Equal([Roles.User], await users.GetRolesAsync((await users.FindByEmailAsync(NamedEmail))!));
        Assert.DoesNotContain("Created admin", output.ToString());
        Assert.Contains($"warning: An account with the email {NamedEmail} already exists and is not an admin; it was left as it is.", error.ToString());
        Assert.Contains("admin create-user --email E --password P --role Admin", error.ToString());
    }
}

public class OperatorCommandWithoutPublicUrlTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task AResetLinkWithoutAppPublicUrlIsAnErrorNamingIt()
    {
        var email = $"nolink-{Guid.NewGuid():N}@example.com";
        var (output, error) = (new StringWriter(), new StringWriter());
        await OperatorCommand.Parse(["admin", "create-user", "--email", email, "--password", "Adm1n!pass"])!.RunAsync(app.Services, output, error);

        var exit = await OperatorCommand.Parse(["admin", "reset-password", "--email", email, "--link"])!.RunAsync(app.Services, output, error);

        Assert.Equal(1, exit);
        Assert.Contains("error: App:PublicUrl is not set", error.ToString());
    }
}
