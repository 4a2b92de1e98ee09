using ChatBlazor.Core.Admin;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace ChatBlazor.Web.Admin.Moderation;

/// <summary>
/// The moderation console: the review queue and the editors of rules, policies and settings. Every action goes
/// through <see cref="ModerationAdmin"/> (audited); the page refreshes when any instance changes the settings.
/// </summary>
public sealed partial class ModerationPage : IDisposable
{
    [Inject] private ModerationAdmin Admin { get; set; } = null!;
    [Inject] private ModerationSettings Settings { get; set; } = null!;
    [Inject] private ISnackbar Snackbar { get; set; } = null!;
    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = null!;

    private IReadOnlyList<FlagRow> _queue = [];
    private int _total;
    private readonly Dictionary<Guid, string?> _reasons = [];
    private string? _error, _testResult;
    private string? _ruleId, _rulePattern, _rulePlaceholder, _ruleSample;
    private string _ruleCategory = ModerationCategories.Pii, _ruleKind = RuleKinds.Regex;
    private bool _ruleEnabled = true, _editingBuiltIn;
    private bool _storeOriginal;
    private int _suspendAfter, _suspendDays;

    protected override async Task OnInitializedAsync()
    {
        var settings = Settings.Current.Settings;
        (_storeOriginal, _suspendAfter, _suspendDays) = (settings.StoreOriginal, settings.SuspendAfterViolations, settings.SuspendWindowDays);
        Settings.Changed += OnChanged;
        await LoadQueueAsync();
    }

    private async Task LoadQueueAsync()
    {
        (_queue, _total) = await Admin.QueueAsync();
        foreach (var row in _queue)
            _reasons.TryAdd(row.Flag.Id, null);
    }

    private void OnChanged() => _ = InvokeAsync(async () =>
    {
        try
        {
            StateHasChanged();
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    });

    private Task Decide(Guid flagId, FlagDecision decision) =>
        Act(a => Admin.DecideAsync(a, flagId, decision, _reasons.GetValueOrDefault(flagId)));

    /// <summary>Runs an admin action as the signed-in admin; a refusal is shown, not thrown.</summary>
    private async Task Act(Func<AuditActor, Task> action)
    {
        _error = null;
        try
        {
            await action((await AuthState).User.Actor());
            Snackbar.Add("Saved.", Severity.Success);
        }
        catch (ModerationAdminException e)
        {
            _error = e.Message;
        }
        await LoadQueueAsync();
    }

    private ModerationRule Rule() => new((_ruleId ?? "").Trim(), _ruleCategory, _ruleKind,
        string.IsNullOrEmpty(_rulePattern) ? null : _rulePattern, string.IsNullOrWhiteSpace(_rulePlaceholder) ? null : _rulePlaceholder.Trim(), _ruleEnabled);

    private void Edit(ModerationRule rule)
    {
        (_ruleId, _ruleCategory, _ruleKind, _rulePattern, _rulePlaceholder, _ruleEnabled) = (rule.Id, rule.Category, rule.Kind, rule.Pattern, rule.Placeholder, rule.Enabled);
        _editingBuiltIn = Settings.Defaults.Any(d => d.Id == rule.Id);
        _testResult = null;
    }

    private void NewRule()
    {
        (_ruleId, _ruleCategory, _ruleKind, _rulePattern, _rulePlaceholder, _ruleEnabled, _editingBuiltIn) =
            (null, ModerationCategories.Pii, RuleKinds.Regex, null, null, true, false);
        _testResult = null;
    }

    private void TestRule()
    {
        _error = null;
        _testResult = null;
        try
        {
            var found = Admin.Test(Rule(), _ruleSample ?? "");
            _testResult = found.Count == 0
                ? "The pattern is valid; it matches nothing in the sample."
                : $"The pattern is valid; {found.Count} match(es): " + string.Join(", ", found.Select(f => f.HasSpan ? $"“{(_ruleSample ?? "").Substring(f.Start, f.Length)}”" : f.Rule));
        }
        catch (ModerationAdminException e)
        {
            _error = e.Message;
        }
    }

    private Task SaveRule() => Act(a => Admin.SaveRuleAsync(a, Rule()));

    public void Dispose() => Settings.Changed -= OnChanged;
}
