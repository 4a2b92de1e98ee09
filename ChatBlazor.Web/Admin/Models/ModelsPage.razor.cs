using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Serving;
using ChatBlazor.Web.Inference;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace ChatBlazor.Web.Admin.Models;

/// <summary>
/// The models console: every known model with its live state, refreshed on a timer while the page is open and at
/// once when any instance changes the settings; each action goes through <see cref="ModelAdmin"/> (audited).
/// </summary>
public sealed partial class ModelsPage : IDisposable
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(3);
    private static readonly int RecentMinutes = (int)RecentWindow.Span.TotalMinutes;

    [Inject] private ModelAdmin Admin { get; set; } = null!;
    [Inject] private ModelCatalog Catalog { get; set; } = null!;
    [Inject] private ModelHosting Hosting { get; set; } = null!;
    [Inject] private IModelStates States { get; set; } = null!;
    [Inject] private PlanCatalog Plans { get; set; } = null!;
    [Inject] private IDialogService Dialogs { get; set; } = null!;
    [Inject] private ISnackbar Snackbar { get; set; } = null!;
    [Inject] private TimeProvider Clock { get; set; } = null!;
    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = null!;

    private IReadOnlyList<KnownModel> _models = [];
    private ITimer? _timer;
    private string? _error;
    private string? _folderName, _folderPath, _hostUrl, _hostModels;
    private int _hostWindow = 4096;

    protected override void OnInitialized()
    {
        _models = Hosting.Known();
        Catalog.Changed += OnChanged;
        _timer = Clock.CreateTimer(_ => OnChanged(), null, RefreshEvery, RefreshEvery);
    }

    private void OnChanged() => _ = InvokeAsync(async () =>
    {
        try
        {
            _models = Hosting.Known();
            StateHasChanged();
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    });

    /// <summary>Runs an admin action as the signed-in admin; a refusal is shown, not thrown.</summary>
    private async Task Act(Func<AuditActor, Task> action)
    {
        _error = null;
        try
        {
            await action((await AuthState).User.Actor());
            Snackbar.Add("Saved. Every instance applies it now.", Severity.Success);
        }
        catch (ModelAdminException e)
        {
            _error = e.Message;
        }
        _models = Hosting.Known();
    }

    private async Task LoadAsync(string model, bool load)
    {
        if (!load && await Dialogs.ShowMessageBoxAsync("Unload model?",
                $"{model} stops on every instance: replies it is writing fail, and it is not offered until loaded again.", yesText: "Unload", cancelText: "Cancel") != true)
            return;
        await Act(a => Admin.SetLoadedAsync(a, model, load));
    }

    private async Task RemoveAsync(string model)
    {
        if (await Dialogs.ShowMessageBoxAsync("Remove model?",
                $"{model} is removed from every instance. Conversations that use it will ask for another model.", yesText: "Remove", cancelText: "Cancel") != true)
            return;
        await Act(a => Admin.RemoveAsync(a, model));
    }

    private async Task AddFolderAsync()
    {
        await Act(a => Admin.AddFolderAsync(a, _folderName ?? "", _folderPath ?? ""));
        if (_error is null)
            (_folderName, _folderPath) = (null, null);
    }

    private async Task AddHostAsync()
    {
        var names = (_hostModels ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        await Act(a => Admin.AddHostAsync(a, _hostUrl ?? "", names, _hostWindow));
        if (_error is null)
            (_hostUrl, _hostModels) = (null, null);
    }

    private static string SourceText(ModelSource source) => source switch
    {
        ModelSource.ConfiguredFolder => "In process (configuration)",
        ModelSource.ConfiguredHost => "Remote host (configuration)",
        ModelSource.AddedFolder => "In process (added)",
        _ => "Remote host (added)",
    };

    private string StateText(KnownModel model, ModelState? state) => (model.InProcess, state) switch
    {
        (true, null) => Hosting.IsLoaded(model.Name) ? "Loaded" : Catalog.Current.For(model.Name)?.Unloaded == true ? "Unloaded" : "Not loaded",
        (true, _) => "Loaded",
        (false, null) => "Checking…",
        (false, { Healthy: true, Error: { } replicasDown }) => $"Reachable ({replicasDown})",
        (false, { Healthy: true }) => "Reachable",
        (false, { Error: var error }) => $"Unhealthy: {error}",
    };

    public void Dispose()
    {
        Catalog.Changed -= OnChanged;
        _timer?.Dispose();
    }
}
