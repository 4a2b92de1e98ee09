using System.Threading.Channels;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Protocol;
using Microsoft.Extensions.Options;

namespace ChatBlazor.StripeEmulator.Webhooks;

/// <summary>What the test switches can change at run time (<c>POST /_emulator/webhooks</c>).</summary>
public sealed record WebhookSettings(string? Url, string? Secret, bool Duplicate, bool Reorder);

/// <summary>
/// Delivers events to the configured endpoint in the background, one at a time in the order they were emitted, signed
/// like Stripe's. A failed delivery (no answer, or not 2xx) is retried later with a doubling wait, up to
/// Emulator:WebhookMaxAttempts, without holding up the events behind it (Stripe does not promise order either).
/// Test switches: Duplicate sends every event twice; Reorder sends the events of one operation in reverse order.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    private sealed record Delivery(StripeEvent Event, string Payload, int Attempt, DateTimeOffset Due);

    private readonly Channel<Delivery> _queue = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PriorityQueue<Delivery, DateTimeOffset> _retries = new();
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _clock;
    private readonly ILogger<WebhookDispatcher> _log;
    private readonly EmulatorOptions _options;
    private readonly Lock _settingsGate = new();
    private WebhookSettings _settings;

    public WebhookDispatcher(IHttpClientFactory http, TimeProvider clock, IOptions<EmulatorOptions> options, ILogger<WebhookDispatcher> log)
    {
        _http = http;
        _clock = clock;
        _log = log;
        _options = options.Value;
        _settings = new WebhookSettings(_options.WebhookUrl, _options.WebhookSecret, Duplicate: false, Reorder: false);
    }

    public WebhookSettings Settings
    {
        get { lock (_settingsGate) return _settings; }
        set { lock (_settingsGate) _settings = value; }
    }

    /// <summary>Queues one operation's events. The payload is fixed now, so a retry sends the same bytes.</summary>
    public void Publish(IReadOnlyList<StripeEvent> events)
    {
        var settings = Settings;
        if (settings.Url is null)
            return;
        var ordered = settings.Reorder ? events.Reverse() : events;
        foreach (var evt in ordered)
        {
            var delivery = new Delivery(evt, StripeJson.ToNode(evt).ToJsonString(), 1, _clock.GetUtcNow());
            _queue.Writer.TryWrite(delivery);
            if (settings.Duplicate)
                _queue.Writer.TryWrite(delivery);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var next = await NextAsync(stoppingToken);
            if (next is null)
                continue;
            if (await SendAsync(next, stoppingToken))
                continue;
            if (next.Attempt >= _options.WebhookMaxAttempts)
            {
                _log.LogWarning("Gave up delivering {EventId} ({Type}) after {Attempts} attempts", next.Event.Id, next.Event.Type, next.Attempt);
                continue;
            }
            var wait = TimeSpan.FromSeconds(_options.WebhookRetrySeconds * Math.Pow(2, next.Attempt - 1));
            var retry = next with { Attempt = next.Attempt + 1, Due = _clock.GetUtcNow() + wait };
            _retries.Enqueue(retry, retry.Due);
        }
    }

    /// <summary>The next delivery: a retry that is due, else a new event, waiting no longer than the next retry's due time.</summary>
    private async Task<Delivery?> NextAsync(CancellationToken stoppingToken)
    {
        if (_retries.TryPeek(out _, out var due) && due <= _clock.GetUtcNow())
            return _retries.Dequeue();
        if (_queue.Reader.TryRead(out var fresh))
            return fresh;

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (_retries.Count > 0)
            wait.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (due - _clock.GetUtcNow()).Ticks)));
        try
        {
            await _queue.Reader.WaitToReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // A retry fell due; the loop picks it up.
        }
        return null;
    }

    private async Task<bool> SendAsync(Delivery delivery, CancellationToken stoppingToken)
    {
        var settings = Settings;
        if (settings.Url is null || settings.Secret is null)
            return true;
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url)
        {
            Content = new StringContent(delivery.Payload, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Stripe-Signature",
            WebhookSignature.Header(delivery.Payload, settings.Secret, _clock.GetUtcNow().ToUnixTimeSeconds()));
        request.Headers.UserAgent.ParseAdd("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        try
        {
            using var response = await _http.CreateClient(nameof(WebhookDispatcher)).SendAsync(request, stoppingToken);
            if (response.IsSuccessStatusCode)
                return true;
            _log.LogInformation("Delivery of {EventId} answered {Status} (attempt {Attempt})", delivery.Event.Id, (int)response.StatusCode, delivery.Attempt);
        }
        catch (HttpRequestException e)
        {
            _log.LogInformation("Delivery of {EventId} failed: {Error} (attempt {Attempt})", delivery.Event.Id, e.Message, delivery.Attempt);
        }
        catch (TaskCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            _log.LogInformation("Delivery of {EventId} timed out (attempt {Attempt})", delivery.Event.Id, delivery.Attempt);
        }
        return false;
    }
}
