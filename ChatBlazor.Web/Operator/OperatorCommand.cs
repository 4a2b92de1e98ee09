using ChatBlazor.Core.Admin;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using ChatBlazor.Web.Account;
using ChatBlazor.Web.Data;
using ChatBlazor.Web.Security;
using Microsoft.AspNetCore.Identity;

namespace ChatBlazor.Web.Operator;

/// <summary>
/// Commands an operator runs against the same configuration as the server, instead of serving:
/// <c>migrate</c>, <c>admin create-user --email E --password P [--role Admin]</c>,
/// <c>admin create-api-key --email E --name N</c>, <c>admin reset-password --email E [--link]</c>,
/// <c>admin suspend-user --email E</c> (alias <c>disable-user</c>), <c>admin unsuspend-user --email E</c> and
/// <c>admin set-plan --email E --plan P</c>. Changes to users go through <see cref="UserAdmin"/>, as in the console,
/// and are written to the audit log as the operator shell.
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
          ChatBlazor.Web admin suspend-user --email E      (disable-user is the same command)
              Suspend the account: log-ins are refused, its open pages are signed out at once on every instance,
              and its API keys and tokens are refused, until unsuspend-user.
          ChatBlazor.Web admin unsuspend-user --email E
              Lift a suspension: log-ins, API keys and tokens work again.
          ChatBlazor.Web admin set-plan --email E --plan P
              Move the user to plan P (a name under Plans: in the configuration); the next request uses its limits.
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
                ["admin", "suspend-user" or "disable-user", .. var rest] => await SetSuspendedAsync(services, rest, true, output),
                ["admin", "unsuspend-user", .. var rest] => await SetSuspendedAsync(services, rest, false, output),
                ["admin", "set-plan", .. var rest] => await SetPlanAsync(services, rest, output),
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
        var admin = services.GetRequiredService<UserAdmin>();
        var userId = await admin.IdByEmailAsync(email);

        if (options.ContainsKey("--link"))
        {
            var link = PasswordResetLink.To(services.GetRequiredService<PublicLinks>(), await admin.CreateResetCodeAsync(AuditActor.Shell, userId));
            error.WriteLine($"A one-time password-reset link for {email}, valid for a day; send it to them privately. Nothing was changed yet.");
            output.WriteLine(link);
            return 0;
        }

        // Made here and printed, never passed on a command line, so it shows in no process list or shell history.
        var password = DatabaseSetup.GeneratePassword();
        await admin.ResetPasswordAsync(AuditActor.Shell, userId, password);
        // The password alone on stdout, so scripts can capture it; what it is goes to stderr.
        error.WriteLine($"Set a temporary password for {email}; their other sessions end now. Give it to them privately: " +
            "they should log in with it and change it at once under their account (account menu, Your account).");
        output.WriteLine(password);
        return 0;
    }

    private static async Task<int> SetSuspendedAsync(IServiceProvider services, string[] args, bool suspended, TextWriter output)
    {
        var options = ParseOptions(args, ["--email"]);
        var email = options.GetValueOrDefault("--email") ?? throw new ArgumentException("--email is required.");
        var admin = services.GetRequiredService<UserAdmin>();
        await admin.SetSuspendedAsync(AuditActor.Shell, await admin.IdByEmailAsync(email), suspended);
        output.WriteLine(suspended
            ? $"Suspended {email}: log-ins are refused, their open pages are signed out, and their API keys and tokens are refused from now on."
            : $"Unsuspended {email}: they can log in again and their API keys and tokens work.");
        return 0;
    }

    private static async Task<int> SetPlanAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        var options = ParseOptions(args, ["--email", "--plan"]);
        var email = options.GetValueOrDefault("--email") ?? throw new ArgumentException("--email is required.");
        var plan = options.GetValueOrDefault("--plan") ?? throw new ArgumentException("--plan is required.");
        var admin = services.GetRequiredService<UserAdmin>();
        await admin.SetPlanAsync(AuditActor.Shell, await admin.IdByEmailAsync(email), plan);
        output.WriteLine($"{email} is on the {services.GetRequiredService<PlanCatalog>().Plans[plan.Trim()].Name} plan from their next request.");
        return 0;
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
