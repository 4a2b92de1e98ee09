namespace ChatBlazor.Web.Admin.Models;

public static class ModelsAdminExtensions
{
    /// <summary>The actions of <c>/admin/models</c>; the settings themselves are wired by <c>AddInference</c>.</summary>
    public static void AddModelsAdmin(this WebApplicationBuilder builder) => builder.Services.AddSingleton<ModelAdmin>();
}
