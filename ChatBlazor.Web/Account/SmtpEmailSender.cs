using System.Net;
using System.Net.Mail;
using ChatBlazor.Core.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Account;

/// <summary>Sends Identity's account emails through the configured SMTP server.</summary>
internal sealed class SmtpEmailSender(IOptions<SmtpOptions> options, ILogger<SmtpEmailSender> logger) : IEmailSender<AppUser>
{
    public Task SendConfirmationLinkAsync(AppUser user, string email, string confirmationLink) =>
        SendAsync(email, "Confirm your ChatBlazor account",
            $"Welcome to ChatBlazor. <a href=\"{WebUtility.HtmlEncode(confirmationLink)}\">Confirm your account</a> to start chatting.");

    public Task SendPasswordResetLinkAsync(AppUser user, string email, string resetLink) =>
        SendAsync(email, "Reset your ChatBlazor password",
            $"<a href=\"{WebUtility.HtmlEncode(resetLink)}\">Choose a new password</a>. If you did not ask for this, ignore this email.");

    public Task SendPasswordResetCodeAsync(AppUser user, string email, string resetCode) =>
        SendAsync(email, "Your ChatBlazor password reset code", $"Your code: {WebUtility.HtmlEncode(resetCode)}");

    private async Task SendAsync(string to, string subject, string htmlBody)
    {
        var smtp = options.Value;
        // Pages only offer email flows when SMTP is configured; reaching here otherwise is a programming error.
        if (!smtp.IsConfigured)
            throw new InvalidOperationException("No mail server is configured (Smtp:Host).");

        using var client = new SmtpClient(smtp.Host, smtp.Port) { EnableSsl = smtp.EnableSsl };
        if (smtp.UserName.Length > 0)
            client.Credentials = new NetworkCredential(smtp.UserName, smtp.Password);
        using var message = new MailMessage(smtp.From, to, subject, htmlBody) { IsBodyHtml = true };
        await client.SendMailAsync(message);
        logger.LogInformation("Sent account email {Subject}", subject);
    }
}
