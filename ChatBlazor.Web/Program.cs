using ChatBlazor.Web.Account;
using ChatBlazor.Web.Admin;
using ChatBlazor.Web.Api;
using ChatBlazor.Web.Billing;
using ChatBlazor.Web.Chat;
using ChatBlazor.Web.Data;
using ChatBlazor.Web.Health;
using ChatBlazor.Web.Inference;
using ChatBlazor.Web.Logging;
using ChatBlazor.Web.Moderation;
using ChatBlazor.Web.Operator;
using ChatBlazor.Web.Security;
using ChatBlazor.Web.Shell;
using ChatBlazor.Web.Telemetry;

var command = OperatorCommand.Parse(args);
var builder = WebApplication.CreateBuilder(command is null ? args : []);

builder.AddStructuredLogging();
builder.AddDatabase();
builder.AddRedis();
builder.AddAccounts();
builder.AddSecurity();
builder.AddHealth();
builder.AddInference();
builder.AddChat();
builder.AddApi();
builder.AddAdmin();
builder.AddModeration();
builder.AddBilling();
builder.AddTelemetry();
builder.AddShell();

var app = builder.Build();

if (command is not null)
    return await command.RunAsync(app.Services, Console.Out, Console.Error);

app.MapMetrics(); // before request logging: scrapes every few seconds would flood it
app.UseStructuredRequestLogging();
app.UseShell();
app.MapHealth();
if (app.ServesUsers())
{
    app.MapAccountEndpoints();
    app.MapChat();
    app.MapApi();
    app.MapAdmin();
    app.MapBilling();
    app.MapShell();
}

await app.RunAsync();
return 0;

public partial class Program;
