using ChatBlazor.Core.Billing;
using Hangfire;

namespace ChatBlazor.Web.Billing;

public static class BillingJobs
{
    public const string GracePeriodJobId = "billing-grace-period";
    public const string UsageMeterJobId = "billing-usage-meter";
    public const string InvoiceSyncJobId = "billing-invoice-sync";

    /// <summary>
    /// Ends plans whose failed payment outlived <c>Stripe:PaymentGracePeriod</c>, every 15 minutes: the grace period is
    /// days long, so a quarter of an hour late is fine. Reports metered tokens every 5 minutes, the ledger window
    /// (<see cref="UsageMetering.Window"/>), so the billing page and Stripe's meter are minutes apart at most. Syncs
    /// invoices hourly: webhooks keep them current, the sync only repairs lost deliveries. With billing off the jobs
    /// are removed, not left to run idle.
    /// </summary>
    public static void DeclareJobs(IRecurringJobManager jobs, bool billingEnabled)
    {
        if (billingEnabled)
        {
            jobs.AddOrUpdate<BillingEventApplier>(GracePeriodJobId, applier => applier.EndGracePeriodsAsync(CancellationToken.None), "*/15 * * * *");
            jobs.AddOrUpdate<UsageMetering>(UsageMeterJobId, metering => metering.RunAsync(CancellationToken.None), "*/5 * * * *");
            jobs.AddOrUpdate<InvoiceSync>(InvoiceSyncJobId, sync => sync.RunAsync(CancellationToken.None), "0 * * * *");
        }
        else
        {
            jobs.RemoveIfExists(GracePeriodJobId);
            jobs.RemoveIfExists(UsageMeterJobId);
            jobs.RemoveIfExists(InvoiceSyncJobId);
        }
    }
}
