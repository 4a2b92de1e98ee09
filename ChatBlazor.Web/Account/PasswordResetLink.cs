using ChatBlazor.Web.Security;

namespace ChatBlazor.Web.Account;

/// <summary>The link of a password reset an admin hands over: the same page the forgot-password email opens.</summary>
public static class PasswordResetLink
{
    /// <param name="code">From <see cref="ChatBlazor.Core.Admin.UserAdmin.CreateResetCodeAsync"/>.</param>
    public static string To(PublicLinks links, string code) =>
        links.To("Account/ResetPassword", new Dictionary<string, string?> { ["code"] = code });
}
