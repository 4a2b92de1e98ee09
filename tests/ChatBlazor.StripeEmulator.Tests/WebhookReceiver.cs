using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Stripe;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>
/// A tiny Kestrel endpoint standing in for the app's POST /stripe/webhook: it verifies each delivery with Stripe.net's
/// EventUtility.ConstructEvent (signature, 300 s tolerance, API version) and keeps the events it accepted, in order.
/// It can be told to fail the first deliveries, to exercise the emulator's retries.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<Event> _accepted = Channel.CreateUnbounded<Event>();
    private int _failuresLeft;
    private int _rejected;
    private readonly TaskCompletionSource _firstRejection = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebhookReceiver(WebApplication app) => _app = app;

    public string Secret { get; } = "whsec_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    public string Url { get; private set; } = "";
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>Completes when ConstructEvent first refuses a delivery.</summary>
    public Task FirstRejection => _firstRejection.Task;

    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var receiver = new WebhookReceiver(app) { _failuresLeft = failFirst };
        app.MapPost("/stripe/webhook", receiver.ReceiveAsync);
        await app.StartAsync();
        receiver.Url = app.Urls.Single() + "/stripe/webhook";
        return receiver;
    }

    private async Task<IResult> ReceiveAsync(HttpRequest request)
    {
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        using var reader = new StreamReader(request.Body);
        var json = await reader.ReadToEndAsync();
        try
        {
            var evt = EventUtility.ConstructEvent(json, request.Headers["Stripe-Signature"], Secret);
            await _accepted.Writer.WriteAsync(evt);
            return Results.Ok();
        }
        catch (StripeException)
        {
            Interlocked.Increment(ref _rejected);
            _firstRejection.TrySetResult();
            return Results.BadRequest();
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> accepted events, failing the test if they do not arrive in time. The catalog's
    /// own events (product.*, price.*), which every test causes first while setting up, are skipped.
    /// </summary>
    public async Task<List<Event>> TakeAsync(int count, TimeSpan? within = null)
    {
        using var deadline = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(15));
        var events = new List<Event>();
        while (events.Count < count)
        {
            var evt = await _accepted.Reader.ReadAsync(deadline.Token);
            if (!evt.Type.StartsWith("product.", StringComparison.Ordinal) && !evt.Type.StartsWith("price.", StringComparison.Ordinal))
                events.Add(evt);
        }
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
