using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ChatBlazor.Core.Conversations;

internal sealed class ConversationConfiguration : IEntityTypeConfiguration<Conversation>, IEntityTypeConfiguration<Message>
{
    public const int MaxTitleLength = 200;
    public const int MaxRatingCommentLength = 2000;

    public void Configure(EntityTypeBuilder<Conversation> conversation)
    {
        conversation.Property(c => c.Title).HasMaxLength(MaxTitleLength);
        conversation.Property(c => c.Model).HasMaxLength(200);
        conversation.Property(c => c.TitleSource).HasConversion<string>().HasMaxLength(16);
        conversation.OwnsOne(c => c.Settings, settings => settings.ToJson());
        conversation.HasOne(c => c.User).WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        conversation.HasMany(c => c.Messages).WithOne(m => m.Conversation).HasForeignKey(m => m.ConversationId).OnDelete(DeleteBehavior.Cascade);
        // The sidebar: one user's conversations, pinned first, then latest activity first.
        conversation.HasIndex(c => new { c.UserId, c.Pinned, c.UpdatedAt }).IsDescending(false, true, true);
        // Search by title: substring match, served by a trigram index.
        conversation.HasIndex(c => c.Title).HasMethod("gin").HasOperators("gin_trgm_ops");
    }

    public void Configure(EntityTypeBuilder<Message> message)
    {
        message.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        message.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
        message.Property(m => m.Model).HasMaxLength(200);
        message.Property(m => m.RatingComment).HasMaxLength(MaxRatingCommentLength);
        message.Property(m => m.HiddenReason).HasMaxLength(1000);
        message.OwnsOne(m => m.Settings, settings => settings.ToJson());
        // Removing a message removes the branches under it; removing the conversation removes all.
        message.HasOne<Message>().WithMany().HasForeignKey(m => m.ParentId).OnDelete(DeleteBehavior.Cascade);
        // A conversation's tree in order, and the siblings of one parent.
        message.HasIndex(m => new { m.ConversationId, m.ParentId, m.CreatedAt });
        // Unfinished replies, for the sweep that finds abandoned ones (a partial index: almost none qualify).
        message.HasIndex(m => m.SavedAt).HasFilter("\"Status\" IN ('Queued', 'Streaming')");
        // Search by content.
        message.HasIndex(m => m.Content).HasMethod("gin").HasOperators("gin_trgm_ops");
    }
}
