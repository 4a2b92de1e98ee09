using System.Text;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Web.Data;
using ChatBlazor.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace ChatBlazor.Web.Operator;

/// <summary>
/// Commands an operator runs against the same configuration as the server, instead of serving:
/// <c>migrate</c>, <c>admin create-user --email E --password P [--role Admin]</c>,
/// <c>admin create-api-key --email E --name N</c>, <c>admin reset-password --email E [--link]</c> and
/// <c>admin disable-user --email E</c>.
/// </summary>
public sealed class OperatorCommand
{
    public const string Usage = """
        Usage:
          ChatBlazor.Web migrate
              Create or upgrade the database, seed roles, and make sure an admin exists
              (CHATBLAZOR_ADMIN_EMAIL / CHATBLAZOR_ADMIN_PASSWORD; a generated password is printed once).
              An existing account with that email is never made an admin; a warning says so.
          ChatBlazor.Web admin create-user --email E --password P [--role Admin]
              Create a user (always in role User, plus the given role).
          ChatBlazor.Web admin create-api-key --email E --name N
              Create an API key for a user and print it (shown only this once).
          ChatBlazor.Web admin reset-password --email E [--link]
              Set a generated temporary password and print it; the user logs in with it and changes it under
              their account. With --link, change nothing and print a one-time password-reset link instead
              (built from App:PublicUrl) for the user to choose a password.
          ChatBlazor.Web admin disable-user --email E
              Lock the account for good: no log-in, open sessions end at their next check, API keys and tokens
              are refused.
        """;

    private readonly string[] _args;

    private OperatorCommand(string[] args) => _args = args;

    /// <summary>Null when the arguments ask for the web server rather than a command.</summary>
    public static OperatorCommand? Parse(string[] args) =>
        args.Length > 0 && args[0] is "migrate" or "admin" ? new OperatorCommand(args) : null;

    public async Task<int> RunAsync(IServiceProvider services, TextWriter output, TextWriter error)
    {
        try
        {
            return _args switch
            {
                ["migrate"] => await MigrateAsync(services, output, error),
                ["admin", "create-user", .. var rest] => await CreateUserAsync(services, rest, output),
                ["admin", "create-api-key", .. var rest] => await CreateApiKeyAsync(services, rest, output, error),
                ["admin", "reset-password", .. var rest] => await ResetPasswordAsync(services, rest, output, error),
                ["admin", "disable-user", .. var rest] => await DisableUserAsync(services, rest, output),
                _ => BadArguments(error, $"Unknown command: {string.Join(' ', _args)}"),
            };
        }
        catch (ArgumentException e)
        {
            return BadArguments(error, e.Message);
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> MigrateAsync(IServiceProvider services, TextWriter output, TextWriter error)
    {
        await DatabaseSetup.MigrateAsync(services);
        // Environment variables, like every other setting, arrive through configuration.
        var config = services.GetRequiredService<IConfiguration>();
        var admin = await DatabaseSetup.EnsureAdminAsync(services, config["CHATBLAZOR_ADMIN_EMAIL"], config["CHATBLAZOR_ADMIN_PASSWORD"]);
        output.WriteLine("Database is up to date.");
        if (admin.Created is { } created)
        {
            output.WriteLine($"Created admin account {created.Email}.");
            if (admin.GeneratedPassword is not null)
                output.WriteLine($"Its password is {admin.GeneratedPassword} — note it now, it is not shown again.");
        }
        if (admin.Warning is not null)
            error.WriteLine($"warning: {admin.Warning}");
        return 0;
    }

    private static async Task<int> CreateUserAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        var options = ParseOptions(args, ["--email", "--password", "--role"]);
        var email = options.GetValueOrDefault("--email") ?? throw new ArgumentException("--email is required.");
        var password = options.GetValueOrDefault("--password") ?? throw new ArgumentException("--password is required.");
        var role = options.GetValueOrDefault("--role");
        if (role is not null && !Roles.All.Contains(role))
            throw new ArgumentException($"--role must be one of: {string.Join(", ", Roles.All)}.");

        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await DatabaseSetup.CreateUserAsync(users, email, password, role, services.GetRequiredService<PlanCatalog>().Default.Name);
        output.WriteLine($"Created user {user.Email}{(role is null ? "" : $" with role {role}")}.");
        return 0;
    }

    private static async Task<int> CreateApiKeyAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        var options = ParseOptions(args, ["--email", "--name"]);
        var email = options.GetValueOrDefault("--email") ?? throw new ArgumentException("--email is required.");
        var name = options.GetValueOrDefault("--name") ?? throw new ArgumentException("--name is required.");
        await using var scope = services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email)
            ?? throw new InvalidOperationException($"No user has the email {email}.");
        var (key, secret) = await services.GetRequiredService<ApiKeyStore>().CreateAsync(user.Id, name);
        // The key alone on stdout, so scripts can capture it; what it is goes to stderr.
        error.WriteLine($"Created API key '{key.Name}' ({key.Prefix}…) for {email}. It is not shown again.");
        output.WriteLine(secret);
        return 0;
    }

    private static async Task<int> ResetPasswordAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        var options = ParseOptions(args, ["--email"], ["--link"]);
        var email = options.GetValueOrDefault("--email") ?? throw new ArgumentException("--email is required.");
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user has the email {email}.");

        if (options.ContainsKey("--link"))
        {
            // The same link the forgot-password email carries: it works once (using it changes the security stamp).
            var code = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(await users.GeneratePasswordResetTokenAsync(user)));
            var link = services.GetRequiredService<PublicLinks>().To("Account/ResetPassword", new Dictionary<string, string?> { ["code"] = code });
            error.WriteLine($"A one-time password-reset link for {email}, valid for a day; send it to them privately. Nothing was changed yet.");
            output.WriteLine(link);
            return 0;
        }

        // Made here and printed, never passed on a command line, so it shows in no process list or shell history.
        var password = DatabaseSetup.GeneratePassword();
        var result = await users.ResetPasswordAsync(user, await users.GeneratePasswordResetTokenAsync(user), password);
        if (!result.Succeeded)
            throw new InvalidOperationException($"Could not reset the password of {email}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        // The password alone on stdout, so scripts can capture it; what it is goes to stderr.
        error.WriteLine($"Set a temporary password for {email}; their other sessions end at their next check. Give it to them privately: " +
            "they should log in with it and change it at once under their account (account menu, Your account).");
        output.WriteLine(password);
        return 0;
    }

    private static async Task<int> DisableUserAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        var options = ParseOptions(args, ["--email"]);
        var email = options.GetValueOrDefault("--email") ?? throw new ArgumentException("--email is required.");
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user has the email {email}.");

        // A lockout with no end refuses log-ins; API keys and JWTs check it on every request (DisabledAccounts).
        Check(await users.SetLockoutEnabledAsync(user, true), email);
        Check(await users.SetLockoutEndDateAsync(user, DisabledAccounts.LockoutEnd), email);
        // A new stamp: cookies and open pages fail their next revalidation instead of living on until they expire.
        Check(await users.UpdateSecurityStampAsync(user), email);
        output.WriteLine($"Disabled {email}: log-ins are refused, their API keys and tokens are refused from now on, and their open sessions end at their next check (within 30 minutes).");
        return 0;

        static void Check(IdentityResult result, string email)
        {
            if (!result.Succeeded)
                throw new InvalidOperationException($"Could not disable {email}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }

    /// <param name="known">Options that take a value.</param>
    /// <param name="flags">Options that stand alone.</param>
    private static Dictionary<string, string> ParseOptions(string[] args, string[] known, string[]? flags = null)
    {
        var options = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (flags?.Contains(args[i]) == true)
            {
                options[args[i]] = "";
                continue;
            }
            if (!known.Contains(args[i]))
                throw new ArgumentException($"Unknown option {args[i]}.");
            if (i + 1 >= args.Length)
                throw new ArgumentException($"{args[i]} needs a value.");
            options[args[i]] = args[++i];
        }
        return options;
    }

    private static int BadArguments(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine(Usage);
        return 2;
    }
}
