using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBlazor.Migrations.History
{
    /// <inheritdoc />
    public partial class PipelineAndReplyJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_SavedAt",
                table: "Messages");

            // One status vocabulary: a reply that ran out of budget is "Length" (it was "Complete" with finish
            // reason "length"), and usage rows use the same names as messages ("cancelled" was a stopped stream).
            migrationBuilder.Sql("""UPDATE "Messages" SET "Status" = 'Length' WHERE "Status" = 'Complete' AND "FinishReason" = 'length';""");
            migrationBuilder.Sql("""
                UPDATE "UsageRecords" SET "Status" = CASE "Status"
                    WHEN 'complete' THEN 'Complete' WHEN 'stopped' THEN 'Stopped' WHEN 'cancelled' THEN 'Stopped' ELSE 'Failed' END;
                """);

            migrationBuilder.DropColumn(
                name: "FinishReason",
                table: "Messages");

            migrationBuilder.AddColumn<Guid>(
                name: "CompletionId",
                table: "UsageRecords",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Attempt",
                table: "Messages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "IX_UsageRecords_CompletionId",
                table: "UsageRecords",
                column: "CompletionId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Messages_SavedAt",
                table: "Messages",
                column: "SavedAt",
                filter: "\"Status\" IN ('Queued', 'Streaming')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageRecords_CompletionId",
                table: "UsageRecords");

            migrationBuilder.DropIndex(
                name: "IX_Messages_SavedAt",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "CompletionId",
                table: "UsageRecords");

            migrationBuilder.DropColumn(
                name: "Attempt",
                table: "Messages");

            migrationBuilder.AddColumn<string>(
                name: "FinishReason",
                table: "Messages",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.Sql("""UPDATE "Messages" SET "Status" = 'Complete', "FinishReason" = 'length' WHERE "Status" = 'Length';""");
            migrationBuilder.Sql("""UPDATE "Messages" SET "Status" = 'Failed' WHERE "Status" IN ('Queued', 'Filtered');""");
            migrationBuilder.Sql("""UPDATE "UsageRecords" SET "Status" = lower("Status");""");

            migrationBuilder.CreateIndex(
                name: "IX_Messages_SavedAt",
                table: "Messages",
                column: "SavedAt",
                filter: "\"Status\" = 'Streaming'");
        }
    }
}
