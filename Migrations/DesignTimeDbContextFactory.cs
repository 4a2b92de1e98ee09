using ChatBlazor.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ChatBlazor.Migrations;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the web app or a database.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql("Host=127.0.0.1;Database=chatblazor_design", npgsql => npgsql.MigrationsAssembly(AppDbContext.MigrationsAssembly))
            .Options);
}
