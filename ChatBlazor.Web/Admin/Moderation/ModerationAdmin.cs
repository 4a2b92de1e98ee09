using System.Globalization;
using System.Text.RegularExpressions;
using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Web.Admin.Moderation;

/// <summary>What an admin decides about a flag; each closes it.</summary>
public enum FlagDecision { Approve, Hide, Warn, Suspend }

/// <summary>One flag as the review queue shows it, with the flagged message's user and text.</summary>
public sealed record FlagRow(ModerationFlag Flag, string UserEmail, bool UserSuspended, DateTimeOffset? MessageHiddenAt);

/// <summary>A change the rules refuse (an invalid pattern, an unknown category); the message says why.</summary>
public sealed class ModerationAdminException(string message) : InvalidOperationException(message);

/// <summary>
/// The console's moderation: the review queue and its decisions, and the editors of rules, per-category policies and
/// global settings. Every change is saved with its audit entry in one SaveChanges, and a change of settings is
/// announced so every instance applies it (<see cref="ModerationSettings.AnnounceAsync"/>).
/// </summary>
public sealed partial class ModerationAdmin(
    IDbContextFactory<AppDbContext> dbFactory, ModerationSettings settings, ModerationService moderation, ModerationDetectorFactory detectorFactory,
    UserAdmin users, AuditLog audit, TimeProvider clock)
{
    public const int MaxReasonLength = 1000;

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.\-_]{1,99}$")]
    private static partial Regex RuleId();

    /// <summary>Open flags, newest first.</summary>
    public async Task<(IReadOnlyList<FlagRow> Rows, int Total)> QueueAsync(int skip = 0, int take = 50, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var open = db.ModerationFlags.AsNoTracking().Where(f => f.Status == ModerationFlagStatus.Open);
        var total = await open.CountAsync(ct);
        var rows = await open.OrderByDescending(f => f.CreatedAt).ThenByDescending(f => f.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200))
            .Select(f => new
            {
                Flag = f, Email = f.User!.Email ?? "", f.User.LockoutEnabled, f.User.LockoutEnd,
                HiddenAt = db.Messages.Where(m => m.Id == f.MessageId).Select(m => m.HiddenAt).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return ([.. rows.Select(r => new FlagRow(r.Flag, r.Email, Core.Identity.DisabledAccounts.IsDisabled(r.LockoutEnabled, r.LockoutEnd), r.HiddenAt))], total);
    }

    /// <summary>
    /// Closes an open flag with <paramref name="decision"/>: approve (nothing was wrong), hide the message (the user
    /// sees <paramref name="reason"/> in its place), warn the user (recorded; it counts toward automatic suspension),
    /// or suspend the user. A decision that upholds the flag may trigger automatic suspension.
    /// </summary>
    public async Task DecideAsync(AuditActor actor, Guid flagId, FlagDecision decision, string? reason, CancellationToken ct = default)
    {
        reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (reason?.Length > MaxReasonLength)
            throw new ModerationAdminException($"The reason is at most {MaxReasonLength} characters.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var flag = await db.ModerationFlags.SingleOrDefaultAsync(f => f.Id == flagId, ct) ?? throw new ModerationAdminException("That flag no longer exists.");
        if (flag.Status != ModerationFlagStatus.Open)
            throw new ModerationAdminException($"That flag was already decided ({flag.Status}) by {flag.DecidedBy}.");
        var email = await db.Users.Where(u => u.Id == flag.UserId).Select(u => u.Email).SingleAsync(ct) ?? flag.UserId;
        if (decision == FlagDecision.Suspend)
        {
            // UserAdmin applies its own rules (never the last admin, never oneself) and audits the suspension.
            try
            {
                await users.SetSuspendedAsync(actor, flag.UserId, true, ct);
            }
            catch (UserAdminException e)
            {
                throw new ModerationAdminException(e.Message);
            }
        }
        if (decision == FlagDecision.Hide)
        {
            if (flag.MessageId is not { } messageId)
                throw new ModerationAdminException("This flag is about an API request, not a stored message: there is nothing to hide. Approve it, warn or suspend the user.");
            var message = await db.Messages.SingleOrDefaultAsync(m => m.Id == messageId, ct)
                ?? throw new ModerationAdminException("The message was deleted; there is nothing to hide.");
            message.HiddenAt = clock.GetUtcNow();
            message.HiddenReason = reason ?? flag.Reason;
        }
        flag.Status = decision switch
        {
            FlagDecision.Approve => ModerationFlagStatus.Approved,
            FlagDecision.Hide => ModerationFlagStatus.Hidden,
            FlagDecision.Warn => ModerationFlagStatus.Warned,
            _ => ModerationFlagStatus.UserSuspended,
        };
        flag.DecidedBy = actor.Email;
        flag.DecidedAt = clock.GetUtcNow();
        flag.DecisionNote = reason;
        audit.Add(db, actor, AuditActions.ModerationDecision, email,
            $"flag {flag.Id} ({flag.Category}, {flag.Action}): {decision}{(reason is null ? "" : $" — {reason}")}");
        await db.SaveChangesAsync(ct);
        if (decision is FlagDecision.Hide or FlagDecision.Warn)
            await moderation.ApplySuspensionPolicyAsync(flag.UserId, ct);
    }

    /// <summary>
    /// Checks a rule as the detector will run it: its category, id and kind, and its pattern compiled (for a regex
    /// rule) and run on <paramref name="sample"/>. Returns the matches in the sample; throws with a clear message otherwise.
    /// </summary>
    public IReadOnlyList<ModerationFinding> Test(ModerationRule rule, string sample)
    {
        if (!RuleId().IsMatch(rule.Id))
            throw new ModerationAdminException("The id is 2 to 100 characters: lower-case letters, digits, dots, dashes (e.g. pii.employee-id).");
        if (!ModerationCategories.All.Contains(rule.Category))
            throw new ModerationAdminException($"The category must be one of: {string.Join(", ", ModerationCategories.All)}.");
        if (rule.Pattern?.Length > ModerationRuleRecord.MaxPatternLength)
            throw new ModerationAdminException($"The pattern is at most {ModerationRuleRecord.MaxPatternLength} characters.");
        if (rule.Placeholder is { Length: > 64 })
            throw new ModerationAdminException("The placeholder is at most 64 characters.");
        // The rule detector's own check: the kind is known, a regex compiles, a built-in kind's pattern fits it.
        if (ModerationRules.Validate(rule) is { } error)
            throw new ModerationAdminException(error);
        // A pattern that runs past its match timeout finds nothing here, as it would in chat (and the detector logs it).
        return detectorFactory([rule with { Enabled = true }]).Detect(sample);
    }

    /// <summary>Saves a rule (a built-in one's copy, or an admin's own) after <see cref="Test"/> accepts it, and announces it.</summary>
    public async Task SaveRuleAsync(AuditActor actor, ModerationRule rule, CancellationToken ct = default)
    {
        Test(rule, "");
        var builtIn = settings.Defaults.FirstOrDefault(d => d.Id == rule.Id);
        if (builtIn is not null && (builtIn.Kind != rule.Kind || builtIn.Category != rule.Category))
            throw new ModerationAdminException($"{rule.Id} is a built-in rule: its kind and category stay {builtIn.Kind} and {builtIn.Category}.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.ModerationRules.SingleOrDefaultAsync(r => r.Id == rule.Id, ct);
        var before = record?.ToRule() ?? builtIn;
        if (before == rule)
            return;
        if (record is null)
        {
            record = new ModerationRuleRecord { Id = rule.Id, Category = rule.Category, Kind = rule.Kind, UpdatedBy = actor.Email };
            db.ModerationRules.Add(record);
        }
        record.Pattern = rule.Pattern;
        record.Placeholder = rule.Placeholder;
        record.Enabled = rule.Enabled;
        record.UpdatedAt = clock.GetUtcNow();
        record.UpdatedBy = actor.Email;
        audit.Add(db, actor, AuditActions.ModerationRule, rule.Id, before is null ? $"added ({rule.Category}, {Describe(rule)})" : $"{Describe(before)} → {Describe(rule)}");
        await db.SaveChangesAsync(ct);
        await ChangedAsync(ct);

        static string Describe(ModerationRule r) => $"{(r.Enabled ? "enabled" : "disabled")}, pattern {r.Pattern ?? "(built in)"}";
    }

    public async Task SavePolicyAsync(AuditActor actor, ModerationPolicy policy, CancellationToken ct = default)
    {
        if (!ModerationCategories.All.Contains(policy.Category))
            throw new ModerationAdminException($"There is no category '{policy.Category}'.");
        if (policy.Threshold is < 0 or > 1 || double.IsNaN(policy.Threshold))
            throw new ModerationAdminException("The threshold is a classifier score between 0 and 1.");
        if (policy.ClassifierAction == ModerationAction.Redact)
            throw new ModerationAdminException("Redact needs a span of text (a rule's match); the classifier scores the whole message. Choose another action for its scores.");
        var before = settings.Current.PolicyFor(policy.Category);
        if (before == policy)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.ModerationPolicies.SingleOrDefaultAsync(p => p.Category == policy.Category, ct);
        if (record is null)
            db.ModerationPolicies.Add(record = new ModerationPolicyRecord { Category = policy.Category });
        record.Action = policy.Action;
        record.ClassifierAction = policy.ClassifierAction;
        record.Threshold = policy.Threshold;
        record.UpdatedAt = clock.GetUtcNow();
        record.UpdatedBy = actor.Email;
        audit.Add(db, actor, AuditActions.ModerationPolicy, policy.Category, $"{Describe(before)} → {Describe(policy)}");
        await db.SaveChangesAsync(ct);
        await ChangedAsync(ct);

        static string Describe(ModerationPolicy p) =>
            $"rules {p.Action}, classifier {p.ClassifierAction} from {p.Threshold.ToString("0.00", CultureInfo.InvariantCulture)}";
    }

    public async Task SaveSettingsAsync(AuditActor actor, bool storeOriginal, int suspendAfterViolations, int suspendWindowDays, CancellationToken ct = default)
    {
        if (suspendAfterViolations is < 0 or > 1000)
            throw new ModerationAdminException("The number of violations is between 0 (never suspend) and 1000.");
        if (suspendWindowDays is < 1 or > 365)
            throw new ModerationAdminException("The window is between 1 and 365 days.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.ModerationSettings.SingleOrDefaultAsync(ct);
        if (record is null)
            db.ModerationSettings.Add(record = new ModerationSettingsRecord());
        var before = Describe(record.StoreOriginal, record.SuspendAfterViolations, record.SuspendWindowDays);
        var after = Describe(storeOriginal, suspendAfterViolations, suspendWindowDays);
        if (before == after)
            return;
        (record.StoreOriginal, record.SuspendAfterViolations, record.SuspendWindowDays) = (storeOriginal, suspendAfterViolations, suspendWindowDays);
        record.UpdatedAt = clock.GetUtcNow();
        record.UpdatedBy = actor.Email;
        audit.Add(db, actor, AuditActions.ModerationSettings, "moderation", $"{before} → {after}");
        await db.SaveChangesAsync(ct);
        await ChangedAsync(ct);

        static string Describe(bool original, int n, int days) =>
            $"stored messages {(original ? "original" : "redacted")}, suspend after {(n == 0 ? "never" : $"{n} violations in {days} days")}";
    }

    /// <summary>This instance applies the change before the admin's page refreshes; the others on the announcement.</summary>
    private async Task ChangedAsync(CancellationToken ct)
    {
        await settings.ReloadAsync(ct);
        await settings.AnnounceAsync();
    }
}
