using ChatBlazor.Core.Admin;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Identity;
using ChatBlazor.Core.Usage;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace ChatBlazor.Core.Data;

public class AppDbContext(DbContextOptions<AppDbContext> options)
    : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    /// <summary>The migrations live in their own assembly so that nothing points back at the web project.</summary>
    public const string MigrationsAssembly = "ChatBlazor.Migrations";

    /// <summary>Shared by every web instance so that cookies issued by one are read by all.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<UsageRollup> UsageRollups => Set<UsageRollup>();
    public DbSet<UsageRollupRun> UsageRollupRuns => Set<UsageRollupRun>();
    public DbSet<Routing.ModelSetting> ModelSettings => Set<Routing.ModelSetting>();
    public DbSet<Routing.RoutingSettings> RoutingSettings => Set<Routing.RoutingSettings>();
    public DbSet<Billing.BillingAccount> BillingAccounts => Set<Billing.BillingAccount>();
    public DbSet<Billing.BillingEventRecord> BillingEvents => Set<Billing.BillingEventRecord>();
    public DbSet<Billing.BillingInvoice> Invoices => Set<Billing.BillingInvoice>();
    public DbSet<Billing.MeterReport> MeterReports => Set<Billing.MeterReport>();
    public DbSet<Moderation.ModerationRuleRecord> ModerationRules => Set<Moderation.ModerationRuleRecord>();
    public DbSet<Moderation.ModerationPolicyRecord> ModerationPolicies => Set<Moderation.ModerationPolicyRecord>();
    public DbSet<Moderation.ModerationSettingsRecord> ModerationSettings => Set<Moderation.ModerationSettingsRecord>();
    public DbSet<Moderation.ModerationFlag> ModerationFlags => Set<Moderation.ModerationFlag>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.HasPostgresExtension("pg_trgm"); // substring search over titles and messages
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
    }
}
