using System.Security.Cryptography;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Web.Admin.Jobs;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Web.Data;

/// <summary>What the admin bootstrap did: the account it created (and the password it generated), or why it did nothing.</summary>
public sealed record AdminBootstrap(AppUser? Created, string? GeneratedPassword, string? Warning);

/// <summary>Brings a database up to date: migrations, then the data every installation needs.</summary>
public static class DatabaseSetup
{
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // Creates the database when missing; EF takes a lock so concurrent instances don't race.
        await db.Database.MigrateAsync(cancellationToken);
        await JobsSchema.InstallAsync(services, cancellationToken);

        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
                Check(await roles.CreateAsync(new IdentityRole(role)), $"create role {role}");
        }
    }

    /// <summary>
    /// Makes sure an admin exists. Credentials come from CHATBLAZOR_ADMIN_EMAIL / CHATBLAZOR_ADMIN_PASSWORD;
    /// without a password one is generated and returned so the caller can show it once. The email only names an
    /// account to create: an existing account is never promoted, since anyone may have signed up with that address
    /// before the operator named it.
    /// </summary>
    public static async Task<AdminBootstrap> EnsureAdminAsync(IServiceProvider services, string? email, string? password)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();

        if (string.IsNullOrWhiteSpace(email))
        {
            // No admin named: keep any existing one, otherwise create the default.
            if ((await users.GetUsersInRoleAsync(Roles.Admin)).Count > 0)
                return new AdminBootstrap(null, null, null);
            email = "admin@chatblazor.local";
        }

        var existing = await users.FindByEmailAsync(email);
        if (existing is not null)
        {
            return await users.IsInRoleAsync(existing, Roles.Admin)
                ? new AdminBootstrap(null, null, null)
                : new AdminBootstrap(null, null,
                    $"An account with the email {email} already exists and is not an admin; it was left as it is. " +
                    "The admin email only names an account to create: choose another email (CHATBLAZOR_ADMIN_EMAIL), " +
                    "or make an admin with: admin create-user --email E --password P --role Admin");
        }

        var generated = string.IsNullOrEmpty(password) ? GeneratePassword() : null;
        var admin = await CreateUserAsync(users, email, password ?? generated!, Roles.Admin, services.GetRequiredService<PlanCatalog>().Default.Name);
        return new AdminBootstrap(admin, generated, null);
    }

    /// <param name="plan">The plan the user starts on: Plans:DefaultPlan's, as for anyone who signs up.</param>
    public static async Task<AppUser> CreateUserAsync(UserManager<AppUser> users, string email, string password, string? role, string plan)
    {
        if (await users.FindByEmailAsync(email) is not null)
            throw new InvalidOperationException($"A user with email {email} already exists.");
        // Operators vouch for the address, so no confirmation mail is needed.
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, Plan = plan };
        Check(await users.CreateAsync(user, password), $"create user {email}");
        Check(await users.AddToRoleAsync(user, Roles.User), $"add {email} to role {Roles.User}");
        if (role is not null && role != Roles.User)
            Check(await users.AddToRoleAsync(user, role), $"add {email} to role {role}");
        return user;
    }

    // 18 random bytes in URL-safe base64 plus fixed classes, so Identity's complexity rules always pass.
    internal static string GeneratePassword() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', 'x').Replace('/', 'y') + "-7a";

    private static void Check(IdentityResult result, string action)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException($"Could not {action}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
    }
}
