using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ChatBlazor.Core.Data;

/// <summary>
/// Settings admins change at run time, kept in PostgreSQL, held in memory by every instance, and announced on Redis
/// when they change (the model catalog, moderation's rules and policies).
/// </summary>
public interface ISharedSettings
{
    /// <summary>What the log calls them ("model settings").</summary>
    string Name { get; }

    /// <summary>Where a change is announced.</summary>
    RedisChannel Channel { get; }

    /// <summary>Reads them again from PostgreSQL; throws, keeping those in use, when what is stored cannot apply.</summary>
    Task ReloadAsync(CancellationToken ct = default);
}

/// <summary>
/// Keeps one <see cref="ISharedSettings"/> current: a first reload before the app serves, one on every announcement
/// heard on Redis, and one every <see cref="Period"/> as the fallback for a missed announcement (Redis pub/sub
/// delivers at most once, and not to a subscriber that was reconnecting). Its parts are resolved at start, not when
/// it is made: the host makes every hosted service before starting any, and options validation (started first) must
/// be the one to report a configuration error.
/// </summary>
public sealed class SharedSettingsSync<TSettings>(IServiceProvider services, ILogger<SharedSettingsSync<TSettings>> log) : BackgroundService
    where TSettings : ISharedSettings
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    private TSettings _settings = default!;

    private readonly Channel<bool> _heard = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _settings = services.GetRequiredService<TSettings>();
        try
        {
            await services.GetRequiredService<IConnectionMultiplexer>().GetSubscriber().SubscribeAsync(_settings.Channel, (_, _) => _heard.Writer.TryWrite(true));
        }
        catch (RedisException e)
        {
            log.LogWarning(e, "Cannot hear changes of the {Settings} on Redis; they apply here within {Period}", _settings.Name, Period);
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
            log.LogWarning(e, "The {Settings} could not be reloaded; keeping those in use", _settings.Name);
        }
    }
}

public static class SharedSettingsServices
{
    /// <summary>Registers <typeparamref name="TSettings"/> as a singleton kept current by a <see cref="SharedSettingsSync{TSettings}"/>.</summary>
    public static IServiceCollection AddSharedSettings<TSettings>(this IServiceCollection services) where TSettings : class, ISharedSettings
    {
        services.AddSingleton<TSettings>();
        services.AddSingleton<SharedSettingsSync<TSettings>>();
        services.AddHostedService(s => s.GetRequiredService<SharedSettingsSync<TSettings>>());
        return services;
    }
}
