using ChatBlazor.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.ApiKeys;

/// <summary>
/// A user's key for the /v1 API. Only a SHA-256 of the secret is stored (the secret is 256 random bits, so a fast
/// hash is enough); <see cref="Prefix"/> is its first characters, for the user to recognise it.
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }
    public required byte[] Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public const int MaxNameLength = 100;

    public void Configure(EntityTypeBuilder<ApiKey> key)
    {
        key.Property(k => k.Name).HasMaxLength(MaxNameLength);
        key.Property(k => k.Prefix).HasMaxLength(16);
        key.HasIndex(k => k.Hash).IsUnique();
        key.HasIndex(k => new { k.UserId, k.CreatedAt });
        key.HasOne(k => k.User).WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
