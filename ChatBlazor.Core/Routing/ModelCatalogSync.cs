using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// Keeps <see cref="ModelCatalog"/> current: a first reload before the app serves, one on every announcement heard
/// on Redis, and one every <see cref="Period"/> as the fallback for a missed announcement (Redis pub/sub delivers at
/// most once, and not to a subscriber that was reconnecting). Its parts are resolved at start, not when it is made:
/// the host makes every hosted service before starting any, and options validation (started first) must be the one
/// to report a configuration error.
/// </summary>
public sealed class ModelCatalogSync(IServiceProvider services, ILogger<ModelCatalogSync> log) : BackgroundService
{
    private ModelCatalog _catalog = null!;

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    private readonly Channel<bool> _heard = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _catalog = services.GetRequiredService<ModelCatalog>();
        try
        {
            await services.GetRequiredService<IConnectionMultiplexer>().GetSubscriber().SubscribeAsync(_catalog.Channel, (_, _) => _heard.Writer.TryWrite(true));
        }
        catch (RedisException e)
        {
            log.LogWarning(e, "Cannot hear model setting changes on Redis; they apply here within {Period}", Period);
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
            await _catalog.ReloadAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            log.LogWarning(e, "Model settings could not be reloaded; keeping the ones in use");
        }
    }
}
