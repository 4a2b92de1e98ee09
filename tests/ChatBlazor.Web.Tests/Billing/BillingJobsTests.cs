using ChatBlazor.Core.Billing;
using ChatBlazor.Web.Billing;
using Hangfire;
using Hangfire.Common;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// The billing jobs' declarations, against a recording double: what is declared, and its schedule, without a
/// database or a Hangfire server.
/// </summary>
public class BillingJobsTests
{
    private sealed class RecurringJobManagerDouble : IRecurringJobManager
    {
        public Dictionary<string, (Job Job, string Cron)> Jobs { get; } = new();
        public void AddOrUpdate(string recurringJobId, Job job, string cronExpression, RecurringJobOptions options) => Jobs[recurringJobId] = (job, cronExpression);
        public void Trigger(string recurringJobId) => throw new NotSupportedException();
        public void RemoveIfExists(string recurringJobId) => Jobs.Remove(recurringJobId);
    }

    [Fact]
    public void TheBillingJobsRunWithBillingOnAndAreRemovedWithBillingOff()
    {
        var jobs = new RecurringJobManagerDouble();

        BillingJobs.DeclareJobs(jobs, billingEnabled: true);

        var (job, cron) = jobs.Jobs["billing-grace-period"];
        Assert.Equal((typeof(BillingEventApplier), nameof(BillingEventApplier.EndGracePeriodsAsync), "*/15 * * * *"), (job.Type, job.Method.Name, cron));
        (job, cron) = jobs.Jobs["billing-usage-meter"];
        Assert.Equal((typeof(UsageMetering), nameof(UsageMetering.RunAsync), "*/5 * * * *"), (job.Type, job.Method.Name, cron));
        (job, cron) = jobs.Jobs["billing-invoice-sync"];
        Assert.Equal((typeof(InvoiceSync), nameof(InvoiceSync.RunAsync), "0 * * * *"), (job.Type, job.Method.Name, cron));
        Assert.Equal(3, jobs.Jobs.Count);

        BillingJobs.DeclareJobs(jobs, billingEnabled: false);

        Assert.Empty(jobs.Jobs);
    }
}
