using ChatBlazor.StripeEmulator;

// ChatBlazor's local Stripe: `dotnet run --project ChatBlazor.StripeEmulator -- --Emulator:WebhookUrl=… --Emulator:WebhookSecret=…`
try
{
    await EmulatorApp.Build(args).RunAsync();
}
catch (InvalidDataException e)
{
    // A bad catalog file: its message names the file and the entry; a stack trace would only bury it.
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
return 0;
