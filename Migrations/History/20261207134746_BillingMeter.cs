using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ChatBlazor.Migrations.History
{
    /// <inheritdoc />
    public partial class BillingMeter : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MeterReports",
                columns: table => new
                {
                    Identifier = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    UserId = table.Column<string>(type: "text", nullable: false),
                    CustomerId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    PeriodStart = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    PeriodEnd = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    WindowEnd = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Final = table.Column<bool>(type: "boolean", nullable: false),
                    IncludedTokens = table.Column<long>(type: "bigint", nullable: false),
                    Tokens = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MeterReports", x => x.Identifier);
                    table.ForeignKey(
                        name: "FK_MeterReports_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_MeterReports_PeriodEnd",
                table: "MeterReports",
                column: "PeriodEnd");

            migrationBuilder.CreateIndex(
                name: "IX_MeterReports_SentAt",
                table: "MeterReports",
                column: "SentAt");

            migrationBuilder.CreateIndex(
                name: "IX_MeterReports_UserId_PeriodStart",
                table: "MeterReports",
                columns: new[] { "UserId", "PeriodStart" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MeterReports");
        }
    }
}
