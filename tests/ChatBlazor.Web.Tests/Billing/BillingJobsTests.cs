using ChatBlazor.Core.Billing;
using ChatBlazor.Web.Billing;
using Hangfire;
using Hangfire.Common;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>
/// The grace-period job's declaration, against a recording double: Hangfire's storage is process-wide
/// (JobStorage.Current), so test classes running side by side would read each other's jobs from it.
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
    public void TheGracePeriodJobRunsWithBillingOnAndIsRemovedWithBillingOff()
    {
        var jobs = new RecurringJobManagerDouble();

        BillingJobs.DeclareJobs(jobs, billingEnabled: true);

        var (job, cron) = jobs.Jobs[BillingJobs.GracePeriodJobId];
        Assert.Equal((typeof(BillingEventApplier), nameof(BillingEventApplier.EndGracePeriodsAsync), "*/15 * * * *"), (job.Type, job.Method.Name, cron));

        BillingJobs.DeclareJobs(jobs, billingEnabled: false);

        Assert.Empty(jobs.Jobs);
    }
}
