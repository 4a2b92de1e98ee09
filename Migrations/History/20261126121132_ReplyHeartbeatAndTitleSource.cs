using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBlazor.Migrations.History
{
    /// <inheritdoc />
    public partial class ReplyHeartbeatAndTitleSource : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "SavedAt",
                table: "Messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TitleSource",
                table: "Conversations",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "FirstWords"); // an existing chat is named by the model only if its first reply is still to come

            migrationBuilder.CreateIndex(
                name: "IX_Messages_SavedAt",
                table: "Messages",
                column: "SavedAt",
                filter: "\"Status\" = 'Streaming'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_SavedAt",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "SavedAt",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "TitleSource",
                table: "Conversations");
        }
    }
}
