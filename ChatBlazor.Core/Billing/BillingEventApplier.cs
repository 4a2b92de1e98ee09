using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Limits;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatBlazor.Core.Billing;

/// <summary>What applying one event did.</summary>
public enum BillingOutcome
{
    /// <summary>Its effect is saved (which may be no change, e.g. a plan the user already has).</summary>
    Applied,
    /// <summary>Applied before: nothing done again.</summary>
    Duplicate,
    /// <summary>Older than what is stored (Stripe delivers out of order): recorded, nothing changed.</summary>
    Outdated,
    /// <summary>A type billing does not act on, or one naming a user that does not exist.</summary>
    Ignored,
}

/// <summary>Billing's settings that the domain needs; the web project fills it from <c>Stripe:*</c>.</summary>
public sealed record BillingPolicy(TimeSpan GracePeriod);

/// <summary>
/// Applies verified Stripe events: each once, and each in one transaction with its record
/// (<see cref="BillingEventRecord"/>), the user's new plan and the audit entry for it. Order is Stripe's weak point:
/// every stored state carries the time of the event that wrote it, an older event changes nothing, and the plan is
/// always worked out from the whole stored state (<see cref="SubscriptionRules"/>), never from the event alone.
/// The plan is written to the account, which every request reads (<see cref="UserPlans"/>): the new limits apply to
/// the user's next request on every instance.
/// </summary>
public sealed class BillingEventApplier(
    IDbContextFactory<AppDbContext> dbFactory, PlanCatalog catalog, BillingPolicy policy, AuditLog audit, TimeProvider clock, ILogger<BillingEventApplier> log)
{
    /// <summary>Who the audit log says changed a plan.</summary>
    public static readonly AuditActor Actor = new("stripe", "Stripe webhook");

    // Two deliveries of one event, or two events of one customer, applied at once: the loser sees the winner's row
    // (a unique key or the row's version) and starts again from a fresh read. More than a few rounds means a bug.
    private const int Attempts = 4;

    public async Task<BillingOutcome> ApplyAsync(BillingEvent stripeEvent, CancellationToken ct = default)
    {
        if (stripeEvent is IgnoredEvent)
            return BillingOutcome.Ignored;
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (await db.BillingEvents.AnyAsync(e => e.Id == stripeEvent.Id, ct))
                return BillingOutcome.Duplicate;
            var now = clock.GetUtcNow();
            var outcome = stripeEvent switch
            {
                CheckoutCompleted checkout => await LinkAsync(db, checkout, now, ct),
                SubscriptionChanged subscription => await ApplySubscriptionAsync(db, subscription, now, ct),
                InvoiceChanged invoice => await ApplyInvoiceAsync(db, invoice, now, ct),
                _ => BillingOutcome.Ignored,
            };
            db.BillingEvents.Add(new BillingEventRecord
            {
                Id = stripeEvent.Id, Type = stripeEvent.Type, CreatedAt = stripeEvent.Created, ReceivedAt = now, Outcome = outcome.ToString(),
            });
            try
            {
                await db.SaveChangesAsync(ct);
                return outcome;
            }
            catch (DbUpdateException e) when (attempt < Attempts && IsConflict(e))
            {
                log.LogDebug("Stripe event {EventId} met a concurrent change; applying it again", stripeEvent.Id);
            }
        }
    }

    /// <summary>A completed checkout names the customer's user: link them, and give the user what the stored subscription buys.</summary>
    private async Task<BillingOutcome> LinkAsync(AppDbContext db, CheckoutCompleted checkout, DateTimeOffset now, CancellationToken ct)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == checkout.UserId, ct);
        if (user is null)
        {
            log.LogWarning("Stripe checkout {EventId} names user {UserId}, who does not exist; customer {CustomerId} stays unlinked",
                checkout.Id, checkout.UserId, checkout.CustomerId);
            return BillingOutcome.Ignored;
        }
        var account = await AccountAsync(db, checkout.CustomerId, now, ct);
        if (account.UserId != user.Id)
        {
            // One customer per user: a user who checks out as a new customer leaves the old one behind, unlinked.
            foreach (var previous in await db.BillingAccounts.Where(a => a.UserId == user.Id && a.CustomerId != account.CustomerId).ToListAsync(ct))
            {
                previous.UserId = null;
                previous.UpdatedAt = now;
            }
            account.UserId = user.Id;
            account.UpdatedAt = now;
            foreach (var invoice in await db.Invoices.Where(i => i.CustomerId == account.CustomerId && i.UserId == null).ToListAsync(ct))
                invoice.UserId = user.Id;
        }
        SetPlan(db, user, account, now, $"checkout linked customer {account.CustomerId}");
        return BillingOutcome.Applied;
    }

    private async Task<BillingOutcome> ApplySubscriptionAsync(AppDbContext db, SubscriptionChanged change, DateTimeOffset now, CancellationToken ct)
    {
        var subscription = change.Subscription;
        var account = await AccountAsync(db, subscription.CustomerId, now, ct);
        // Strictly older only: two events in the same second (Stripe's resolution) are applied in the order they arrive.
        if (account.SubscriptionEventAt is { } last && change.Created < last)
            return BillingOutcome.Outdated;
        if (!SubscriptionRules.Replaces(account, subscription, change.Deleted))
            return BillingOutcome.Outdated;
        account.SubscriptionId = subscription.SubscriptionId;
        // A deleted subscription's object says canceled already; saying it here keeps the rule independent of that.
        account.Status = change.Deleted ? "canceled" : subscription.Status;
        account.PriceId = SubscriptionRules.PlanPrice(subscription.PriceIds, catalog);
        account.Plan = catalog.ForStripePrice(account.PriceId)?.Name;
        account.CurrentPeriodStart = subscription.CurrentPeriodStart;
        account.CurrentPeriodEnd = subscription.CurrentPeriodEnd;
        account.CancelAtPeriodEnd = subscription.CancelAtPeriodEnd;
        account.SubscriptionEventAt = change.Created;
        account.UpdatedAt = now;
        if (account.Plan is null && account.PriceId is not null)
            log.LogWarning("Stripe subscription {SubscriptionId} has price {PriceId}, which no Plans:<Name>:StripePriceId names; the user's plan is left as it is",
                subscription.SubscriptionId, account.PriceId);
        if (await UserOfAsync(db, account, ct) is { } user)
            SetPlan(db, user, account, now, $"subscription {subscription.SubscriptionId} {account.Status}");
        return BillingOutcome.Applied;
    }

    private async Task<BillingOutcome> ApplyInvoiceAsync(AppDbContext db, InvoiceChanged change, DateTimeOffset now, CancellationToken ct)
    {
        var state = change.Invoice;
        var changed = await UpsertInvoiceAsync(db, state, change.Created, ct);
        if (change.Type is StripeEventTypes.InvoicePaid or StripeEventTypes.InvoicePaymentFailed)
        {
            var account = await AccountAsync(db, state.CustomerId, now, ct);
            if (account.PaymentEventAt is null || change.Created >= account.PaymentEventAt)
            {
                // The grace period runs from the first failure of a run of failures, not the latest retry.
                account.PaymentFailedSince = change.Type == StripeEventTypes.InvoicePaid ? null : account.PaymentFailedSince ?? change.Created;
                account.PaymentEventAt = change.Created;
                account.UpdatedAt = now;
                if (await UserOfAsync(db, account, ct) is { } user)
                    SetPlan(db, user, account, now, change.Type == StripeEventTypes.InvoicePaid ? $"invoice {state.InvoiceId} paid" : $"invoice {state.InvoiceId} payment failed");
                changed = true;
            }
        }
        return changed ? BillingOutcome.Applied : BillingOutcome.Outdated;
    }

    /// <summary>
    /// Invoices read from Stripe's API at <paramref name="readAt"/> (the invoice sync, which catches what a lost
    /// webhook missed), stored by the webhook's rule (<see cref="UpsertInvoiceAsync"/>). Only the rows change:
    /// payment state and plans follow payment events alone. Returns how many rows were written.
    /// </summary>
    public async Task<int> ApplyInvoicesAsync(IReadOnlyList<InvoiceState> invoices, DateTimeOffset readAt, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var written = 0;
            foreach (var state in invoices)
                if (await UpsertInvoiceAsync(db, state, readAt, ct))
                    written++;
            try
            {
                await db.SaveChangesAsync(ct);
                return written;
            }
            catch (DbUpdateException e) when (attempt < Attempts && IsConflict(e))
            {
                // A webhook wrote one of these invoices meanwhile: read again, and let the newer state win.
                log.LogDebug("Invoice sync met a concurrent change; applying again");
            }
        }
    }

    /// <summary>
    /// The one rule for an invoice's row, from a webhook or the sync: a state as of <paramref name="at"/> (the event's
    /// <c>created</c>, or when the sync read it) replaces a row written from a state as of that time or earlier, and
    /// nothing newer. An invoice that names no known user gets the user its customer is linked to.
    /// </summary>
    private static async Task<bool> UpsertInvoiceAsync(AppDbContext db, InvoiceState state, DateTimeOffset at, CancellationToken ct)
    {
        var invoice = db.Invoices.Local.FirstOrDefault(i => i.Id == state.InvoiceId)
            ?? await db.Invoices.SingleOrDefaultAsync(i => i.Id == state.InvoiceId, ct);
        if (invoice is not null && at < invoice.EventAt)
            return false;
        if (invoice is null)
        {
            invoice = new BillingInvoice { Id = state.InvoiceId, CustomerId = state.CustomerId, Status = state.Status, Currency = state.Currency };
            db.Invoices.Add(invoice);
        }
        invoice.CustomerId = state.CustomerId;
        invoice.UserId ??= await db.BillingAccounts.Where(a => a.CustomerId == state.CustomerId).Select(a => a.UserId).SingleOrDefaultAsync(ct);
        invoice.SubscriptionId = state.SubscriptionId;
        invoice.Status = state.Status;
        invoice.AmountDue = state.AmountDue;
        invoice.AmountPaid = state.AmountPaid;
        invoice.Total = state.Total;
        invoice.Currency = state.Currency;
        invoice.HostedInvoiceUrl = state.HostedInvoiceUrl;
        invoice.PdfUrl = state.PdfUrl;
        invoice.PeriodStart = state.PeriodStart;
        invoice.PeriodEnd = state.PeriodEnd;
        invoice.CreatedAt = state.Created;
        invoice.EventAt = at;
        return true;
    }

    /// <summary>
    /// Gives the default plan to users whose failed payment is older than the grace period. No event marks that
    /// moment, so a recurring job asks; a payment that succeeds later restores the plan through its event. Returns
    /// how many plans changed. A payment event applied meanwhile changes the account's row, so this save fails on
    /// its version and the job's next run decides again, from the newer state.
    /// </summary>
    public async Task<int> EndGracePeriodsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var due = now - policy.GracePeriod;
        var accounts = await db.BillingAccounts.Include(a => a.User)
            .Where(a => a.UserId != null && a.PaymentFailedSince != null && a.PaymentFailedSince <= due).ToListAsync(ct);
        var changed = 0;
        foreach (var account in accounts.Where(a => a.User is not null))
            if (SetPlan(db, account.User!, account, now, $"payment failed {account.PaymentFailedSince:u}, grace period over"))
            {
                account.UpdatedAt = now;
                changed++;
            }
        await db.SaveChangesAsync(ct);
        return changed;
    }

    /// <summary>Writes the plan the stored state gives (<see cref="SubscriptionRules.PlanFor"/>) to the account, with its audit entry, if it differs.</summary>
    private bool SetPlan(AppDbContext db, AppUser user, BillingAccount account, DateTimeOffset now, string why)
    {
        var plan = SubscriptionRules.PlanFor(account, catalog, now, policy.GracePeriod);
        var old = catalog.For(user.Plan).Name;
        if (plan is null || plan == old)
            return false;
        user.Plan = plan;
        audit.Add(db, Actor, AuditActions.UserPlan, user.Email ?? user.Id, $"{old} → {plan} ({why})");
        log.LogInformation("User {UserId} is now on plan {Plan} ({Why})", user.Id, plan, why);
        return true;
    }

    private static async Task<BillingAccount> AccountAsync(AppDbContext db, string customerId, DateTimeOffset now, CancellationToken ct)
    {
        var account = db.BillingAccounts.Local.FirstOrDefault(a => a.CustomerId == customerId)
            ?? await db.BillingAccounts.SingleOrDefaultAsync(a => a.CustomerId == customerId, ct);
        if (account is null)
        {
            account = new BillingAccount { CustomerId = customerId, UpdatedAt = now };
            db.BillingAccounts.Add(account);
        }
        return account;
    }

    private static async Task<AppUser?> UserOfAsync(AppDbContext db, BillingAccount account, CancellationToken ct) =>
        account.UserId is null ? null : await db.Users.SingleOrDefaultAsync(u => u.Id == account.UserId, ct);

    private static bool IsConflict(DbUpdateException e) =>
        e is DbUpdateConcurrencyException || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
