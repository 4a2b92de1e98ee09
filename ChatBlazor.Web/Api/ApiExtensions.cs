using System.Security.Claims;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Limits;
using ChatBlazor.Inference.Serving;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatBlazor.Web.Api;

public static class ApiExtensions
{
    /// <summary>API keys and the /v1 authentication (API key or JWT); limits come from AddLimits.</summary>
    public static void AddApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        var jwt = builder.Configuration.GetSection(JwtOptions.Section).Get<JwtOptions>() ?? new();
        if (jwt.Problem() is { } problem)
            throw new InvalidOperationException(problem);
        var authentication = builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(ApiAuthentication.Scheme, "API key or JWT", options => options.ForwardDefaultSelector = http =>
                jwt.IsConfigured && ApiAuthentication.BearerToken(http.Request) is { } token && !token.StartsWith(ApiKeyStore.SecretPrefix, StringComparison.Ordinal)
                    ? ApiAuthentication.JwtScheme
                    : ApiKeyAuthenticationHandler.SchemeName);
        if (jwt.IsConfigured)
            authentication.AddJwtBearer(ApiAuthentication.JwtScheme, options => JwtAuthentication.Configure(options, jwt));
    }

    /// <summary>The OpenAI-compatible API under /v1, for API keys and JWTs only (never the browser's cookie).</summary>
    public static void MapApi(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").WithTags("OpenAI").RequireAuthorization(policy => policy
            .AddAuthenticationSchemes(ApiAuthentication.Scheme).RequireAuthenticatedUser());
        v1.MapGet("/models", ListModels).WithName("ListModels");
        v1.MapPost("/chat/completions", CompletionEndpoints.ChatAsync).WithName("CreateChatCompletion");
        v1.MapPost("/completions", CompletionEndpoints.TextAsync).WithName("CreateCompletion");
        v1.MapPost("/moderations", ModerationEndpoints.ModerateAsync).WithName("CreateModeration");
        v1.Map("/{**path}", CompletionEndpoints.NotFoundAsync).WithName("UnknownApiPath");
    }

    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The models the caller's plan may use.</summary>
    private static JsonHttpResult<ModelList> ListModels(ClaimsPrincipal user, CompletionPipeline pipeline, PlanCatalog plans) =>
        TypedResults.Json(new ModelList("list", [.. pipeline.ModelsFor(plans.For(user.FindFirstValue(ApiClaims.Plan)))
            .Select(m => new ModelCard(m.Name, "model", Started, "chatblazor", m.ContextWindow))]), OpenAiJson.Options);
}
