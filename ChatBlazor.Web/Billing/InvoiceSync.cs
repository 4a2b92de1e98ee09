using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Stripe;

namespace ChatBlazor.Web.Billing;

/// <summary>
/// The Hangfire job that reads every linked customer's invoices from Stripe, hourly, and stores them by the webhook's
/// rule (<see cref="BillingEventApplier.ApplyInvoicesAsync"/>). Webhooks keep the rows current; this brings back what
/// a lost or refused delivery missed, so the billing page and the admin console never lack an invoice for long.
/// </summary>
public sealed class InvoiceSync(IDbContextFactory<AppDbContext> dbFactory, StripeClient stripe, BillingEventApplier applier, TimeProvider clock,
    ILogger<InvoiceSync> log)
{
    /// <summary>Reads and stores each customer's invoices; a customer that fails does not stop the others, and the run then fails so Hangfire retries.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        List<string> customers;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            customers = await db.BillingAccounts.Where(a => a.UserId != null).OrderBy(a => a.CustomerId).Select(a => a.CustomerId).ToListAsync(ct);
        var service = new InvoiceService(stripe);
        var failures = new List<Exception>();
        var written = 0;
        foreach (var customer in customers)
        {
            try
            {
                // The time before the read: what is read is at least this new, so an event created later still wins.
                var readAt = clock.GetUtcNow();
                var invoices = new List<InvoiceState>();
                await foreach (var invoice in service.ListAutoPagingAsync(new InvoiceListOptions { Customer = customer, Limit = 100 }, cancellationToken: ct))
                    invoices.Add(StripeWebhook.State(invoice));
                written += await applier.ApplyInvoicesAsync(invoices, readAt, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogWarning("Could not sync the invoices of customer {CustomerId}: {Reason}; the next run tries again", customer, e.Message);
                failures.Add(e);
            }
        }
        if (failures.Count > 0)
            throw new AggregateException($"The invoices of {failures.Count} of {customers.Count} customers could not be synced from Stripe.", failures);
        return written;
    }
}
