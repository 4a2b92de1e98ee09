using ChatBlazor.Core.Billing;
using Hangfire;

namespace ChatBlazor.Web.Billing;

public static class BillingJobs
{
    public const string GracePeriodJobId = "billing-grace-period";

    /// <summary>
    /// Ends plans whose failed payment outlived <c>Stripe:PaymentGracePeriod</c>, every 15 minutes: the grace period is
    /// days long, so a quarter of an hour late is fine. With billing off the job is removed, not left to run idle.
    /// </summary>
    public static void DeclareJobs(IRecurringJobManager jobs, bool billingEnabled)
    {
        if (billingEnabled)
            jobs.AddOrUpdate<BillingEventApplier>(GracePeriodJobId, applier => applier.EndGracePeriodsAsync(CancellationToken.None), "*/15 * * * *");
        else
            jobs.RemoveIfExists(GracePeriodJobId);
    }
}
