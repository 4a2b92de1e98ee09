using ChatBlazor.StripeEmulator;

// ChatBlazor's local Stripe: `dotnet run --project ChatBlazor.StripeEmulator -- --Emulator:WebhookUrl=… --Emulator:WebhookSecret=…`
await EmulatorApp.Build(args).RunAsync();
