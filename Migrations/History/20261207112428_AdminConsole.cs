using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace ChatBlazor.Migrations.History
{
    /// <inheritdoc />
    public partial class AdminConsole : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Plan",
                table: "UsageRecords",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "LastActiveAt",
                table: "AspNetUsers",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "RequestsPerMinuteOverride",
                table: "AspNetUsers",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TokensPerDayOverride",
                table: "AspNetUsers",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TokensPerMinuteOverride",
                table: "AspNetUsers",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AuditEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ActorId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ActorEmail = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Target = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Details = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ModelSettings",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    Plans = table.Column<List<string>>(type: "text[]", nullable: false),
                    Folder = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    HostUrl = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ContextWindow = table.Column<int>(type: "integer", nullable: true),
                    Unloaded = table.Column<bool>(type: "boolean", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ModelSettings", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "RoutingSettings",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    DefaultModel = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    RulesJson = table.Column<string>(type: "jsonb", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoutingSettings", x => x.Id);
                });

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
                name: "IX_AuditEntries_Action_At",
                table: "AuditEntries",
                columns: new[] { "Action", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_At",
                table: "AuditEntries",
                column: "At");

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
                name: "AuditEntries");

            migrationBuilder.DropTable(
                name: "ModelSettings");

            migrationBuilder.DropTable(
                name: "RoutingSettings");

            migrationBuilder.DropTable(
                name: "UsageRollupRuns");

            migrationBuilder.DropTable(
                name: "UsageRollups");

            migrationBuilder.DropIndex(
                name: "IX_Messages_Rated_CreatedAt",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "Plan",
                table: "UsageRecords");

            migrationBuilder.DropColumn(
                name: "LastActiveAt",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "RequestsPerMinuteOverride",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "TokensPerDayOverride",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "TokensPerMinuteOverride",
                table: "AspNetUsers");
        }
    }
}
