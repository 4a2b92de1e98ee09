using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace ChatBlazor.Migrations.History
{
    /// <inheritdoc />
    public partial class AdminUsage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "UsageRollupRuns",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    AggregatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LedgerRows = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageRollupRuns", x => x.Day);
                });

            migrationBuilder.CreateTable(
                name: "UsageRollups",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    UserId = table.Column<string>(type: "text", nullable: false),
                    ApiKeyId = table.Column<Guid>(type: "uuid", nullable: true),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Plan = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Requests = table.Column<int>(type: "integer", nullable: false),
                    Errors = table.Column<int>(type: "integer", nullable: false),
                    PromptTokens = table.Column<long>(type: "bigint", nullable: false),
                    CompletionTokens = table.Column<long>(type: "bigint", nullable: false),
                    LatencyBuckets = table.Column<int[]>(type: "integer[]", nullable: false),
                    MaxLatencyMs = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageRollups", x => x.Id);
                    table.ForeignKey(
                        name: "FK_UsageRollups_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Messages_Rated_CreatedAt",
                table: "Messages",
                column: "CreatedAt",
                filter: "\"Rating\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageRollups_Day_Model",
                table: "UsageRollups",
                columns: new[] { "Day", "Model" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageRollups_Day_UserId_Model_Plan_ApiKeyId",
                table: "UsageRollups",
                columns: new[] { "Day", "UserId", "Model", "Plan", "ApiKeyId" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "IX_UsageRollups_UserId",
                table: "UsageRollups",
                column: "UserId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "UsageRollupRuns");

            migrationBuilder.DropTable(
                name: "UsageRollups");

            migrationBuilder.DropIndex(
                name: "IX_Messages_Rated_CreatedAt",
                table: "Messages");
        }
    }
}
