using System.ComponentModel.DataAnnotations;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;

namespace ChatBlazor.Web.Account;

public sealed class SmtpOptions : IValidatableObject
{
    public const string Section = "Smtp";

    /// <summary>Empty means no mail server: accounts need no email confirmation and password reset is by an admin.</summary>
    public string Host { get; set; } = "";
    [Range(1, 65535)] public int Port { get; set; } = 587;
    public string UserName { get; set; } = "";
    public string Password { get; set; } = "";
    public string From { get; set; } = "";
    public bool EnableSsl { get; set; } = true;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IsConfigured && string.IsNullOrWhiteSpace(From))
            yield return new ValidationResult("Smtp:From is required when Smtp:Host is set.", [nameof(From)]);
    }
}

public static class AccountExtensions
{
    public static void AddAccounts(this WebApplicationBuilder builder)
    {
        var smtp = builder.Configuration.GetSection(SmtpOptions.Section).Get<SmtpOptions>() ?? new();
        builder.Services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<IdentityRedirectManager>();
        builder.Services.AddScoped<AuthenticationStateProvider, RevalidatingAuthenticationStateProvider>();

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        builder.Services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/Account/Login";
            cookie.AccessDeniedPath = "/Account/AccessDenied";
        });
        builder.Services.AddAuthorization();
        builder.AddSessionEnd();

        builder.Services.AddIdentityCore<AppUser>(options =>
            {
                // Without a mail server a confirmation link could never arrive, so only ask for one when SMTP is set.
                options.SignIn.RequireConfirmedAccount = smtp.IsConfigured;
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 8;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        builder.Services.AddSingleton<IEmailSender<AppUser>, SmtpEmailSender>();
        builder.Services.AddOptions<SignInGuardOptions>().BindConfiguration(SignInGuardOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SignInGuard>();
        builder.Services.AddScoped<UserPreferences>();
    }
}
