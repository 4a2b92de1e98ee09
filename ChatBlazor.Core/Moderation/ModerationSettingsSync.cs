using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatBlazor.Core.Moderation;

/// <summary>
/// Keeps <see cref="ModerationSettings"/> current: a first reload before the app serves, one on every announcement heard
/// on Redis, and one every <see cref="Period"/> as the fallback for a missed announcement (Redis pub/sub delivers at
/// most once, and not to a subscriber that was reconnecting). Its parts are resolved at start, not when it is made:
/// the host makes every hosted service before starting any, and options validation (started first) must be the one
/// to report a configuration error.
/// </summary>
public sealed class ModerationSettingsSync(IServiceProvider services, ILogger<ModerationSettingsSync> log) : BackgroundService
{
    private ModerationSettings _settings = null!;

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    private readonly Channel<bool> _heard = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _settings = services.GetRequiredService<ModerationSettings>();
        try
        {
            await services.GetRequiredService<IConnectionMultiplexer>().GetSubscriber().SubscribeAsync(_settings.Channel, (_, _) => _heard.Writer.TryWrite(true));
        }
        catch (RedisException e)
        {
            log.LogWarning(e, "Cannot hear moderation setting changes on Redis; they apply here within {Period}", Period);
        }
        await ReloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(Period);
            try
            {
                await _heard.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // the periodic reload
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await ReloadAsync(stoppingToken);
        }
    }

    private async Task ReloadAsync(CancellationToken ct)
    {
        try
        {
            await _settings.ReloadAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            log.LogWarning(e, "Moderation settings could not be reloaded (a rule that does not compile?); keeping the ones in use");
        }
    }
}
