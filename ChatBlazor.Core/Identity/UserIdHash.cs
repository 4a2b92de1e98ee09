using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Core.Identity;

/// <summary>
/// A user id as logs, metrics and exported analytics show it: HMAC-SHA256 under a key from configuration
/// (<c>Logging:UserIdKey</c>). The same user always gets the same hash, so lines and rows join with each other; without
/// the key nobody can go from a hash back to an account (a plain hash of a GUID is no protection: the ids are in the
/// database, and whoever holds a copy of it can hash them all).
/// </summary>
public sealed class UserIdHash
{
    /// <summary>Hex characters kept: 128 bits, enough that two users never share one, short enough to read.</summary>
    public const int Length = 32;

    private readonly byte[] _key;

    public UserIdHash(string key)
    {
        if (UserIdHashOptions.Problem(key) is { } problem)
            throw new ArgumentException(problem, nameof(key));
        _key = Encoding.UTF8.GetBytes(key);
    }

    /// <summary>The keyed hash of <paramref name="userId"/>, 32 lower-case hex characters.</summary>
    public string Of(string userId)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(userId), mac);
        return Convert.ToHexStringLower(mac)[..Length];
    }
}

/// <summary><c>Logging:UserIdKey</c>: the key of <see cref="UserIdHash"/>. ./run.sh generates one into .data/run.</summary>
public sealed class UserIdHashOptions
{
    public const string Section = "Logging";
    public const int MinKeyLength = 16;

    public string UserIdKey { get; set; } = "";

    /// <summary>Why <paramref name="key"/> cannot be used, naming the setting; null if it can.</summary>
    public static string? Problem(string? key) =>
        string.IsNullOrWhiteSpace(key) || key.Trim().Length < MinKeyLength
            ? $"Logging:UserIdKey must be a secret of {MinKeyLength} characters or more; generate one with: head -c 32 /dev/urandom | base64"
            : null;
}

public static class UserIdHashServices
{
    /// <summary>The keyed hash, its key validated at start.</summary>
    public static IServiceCollection AddUserIdHash(this IServiceCollection services)
    {
        services.AddOptions<UserIdHashOptions>().BindConfiguration(UserIdHashOptions.Section)
            .Validate(o => UserIdHashOptions.Problem(o.UserIdKey) is null,
                $"Logging:UserIdKey must be a secret of {UserIdHashOptions.MinKeyLength} characters or more: the key of the user id hashes in logs and exports (./run.sh generates one; or: head -c 32 /dev/urandom | base64).")
            .ValidateOnStart();
        services.AddSingleton(sp => new UserIdHash(sp.GetRequiredService<IOptions<UserIdHashOptions>>().Value.UserIdKey));
        return services;
    }
}
