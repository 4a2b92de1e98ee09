using System.Security.Claims;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Replies;
using ChatBlazor.Core.Routing;
using ChatBlazor.Inference.Contracts;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using MudBlazor;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// The chat: one conversation's visible branch, its settings and the composer, beside the list of chats. The tree
/// logic lives in <see cref="ReplyTree"/>, the replies in <see cref="ReplyJobs"/> (they run as jobs on any instance);
/// this page asks, shows, and follows the reply being written.
/// </summary>
public sealed partial class ChatPage
{
    [Inject] private ConversationStore Store { get; set; } = null!;
    [Inject] private ReplyJobs Replies { get; set; } = null!;
    [Inject] private CompletionPipeline Pipeline { get; set; } = null!;
    [Inject] private ModelCatalog Catalog { get; set; } = null!;
    [Inject] private RateLimiter Limiter { get; set; } = null!;
    [Inject] private UserPlans Plans { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private IJSRuntime JS { get; set; } = null!;
    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Parameter] public Guid? ConversationId { get; set; }
    [CascadingParameter] private Task<AuthenticationState> AuthState { get; set; } = null!;

    private ConversationSidebar? _sidebar;
    private string _userId = "";
    private Plan? _plan;
    private IReadOnlyList<ModelInfo> _models = [];
    private ConversationView? _view;
    private ConversationSettings _settings = new();
    private string? _model, _error;
    private bool _sidebarOpen, _settingsOpen, _notFound, _sending;
    private int _window = ConversationStore.DefaultWindow;
    private Guid? _shownId; // the conversation on screen; a new chat gets its id before the address changes
    private bool _loaded;
    private LimitStatus? _daily;
    private TitleChange? _lastTitle; // a title heard while a load was reading the conversation from before it

    // The reply being written: its text as it streams, and the follower to cancel when the page moves on.
    private Guid? _streamingId;
    private StreamingMarkdown? _stream;
    private CancellationTokenSource _following = new();

    private ReplyTree Tree => _view?.Tree ?? ReplyTree.Empty;
    private string? Title => _view?.Conversation.Title;
    private ModelInfo? SelectedModel => _models.FirstOrDefault(m => m.Name == _model);

    protected override async Task OnInitializedAsync()
    {
        _userId = (await AuthState).User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";
        _plan = await Plans.ForUserAsync(_userId);
        _models = Pipeline.ModelsFor(_plan); // the server refuses the rest all the same
        _model = _models.FirstOrDefault()?.Name;
        await RefreshQuotaAsync();
        Replies.TitleChanged += OnTitleChanged;
        Catalog.Changed += OnModelsChanged;
    }

    /// <summary>An admin enabled, disabled or moved a model (on any instance): the picker follows at once.</summary>
    private void OnModelsChanged() => _ = InvokeAsync(async () =>
    {
        try
        {
            if (_plan is null)
                return;
            _models = Pipeline.ModelsFor(_plan);
            StateHasChanged();
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    });

    protected override async Task OnParametersSetAsync()
    {
        // SendAsync moves a new chat to its own address itself; that navigation must not load it a second time.
        if (_loaded && _shownId == ConversationId)
            return;
        (_loaded, _shownId, _sidebarOpen, _window) = (true, ConversationId, false, ConversationStore.DefaultWindow);
        await LoadAsync();
    }

    // What is on screen stays until the new state has loaded: no empty flash on "Show earlier" or after a reply.
    private async Task LoadAsync()
    {
        StopFollowing();
        (_notFound, _error) = (false, null);
        if (_shownId is not { } id)
        {
            (_view, _settings) = (null, new());
            return;
        }
        _view = await Store.OpenAsync(_userId, id, _window);
        if (_view is null)
        {
            _notFound = true;
            return;
        }
        (_model, _settings) = (_view.Conversation.Model, _view.Conversation.Settings);
        if (_lastTitle?.ConversationId == id && _view.Conversation.TitleSource == TitleSource.FirstWords)
            _view.Conversation.Title = _lastTitle.Title;
        if (_view.Tree.IsReplying)
            Follow(_view.Tree.Last!);
    }

    /// <summary>
    /// Replays what the reply has so far, then follows it to its end; only this message redraws. Runs on the
    /// circuit's dispatcher (started from a handler or a lifecycle method), so it can render directly.
    /// </summary>
    private void Follow(Message reply)
    {
        _streamingId = reply.Id;
        _stream = new StreamingMarkdown();
        _stream.Apply(0, reply.Content);
        var (stream, token) = (_stream, _following.Token);
        _ = FollowAsync(reply, stream, token);
    }

    private async Task FollowAsync(Message reply, StreamingMarkdown stream, CancellationToken token)
    {
        try
        {
            await foreach (var update in Replies.FollowAsync(_userId, reply.Id, token))
            {
                reply.Status = update.Status;
                if (update.Status.IsFinal())
                    break;
                stream.Apply(update.Offset, update.Text);
                StateHasChanged();
            }
            if (token.IsCancellationRequested)
                return;
            await LoadAsync(); // the stored text, figures (tokens, speed) and any error
            await RefreshQuotaAsync();
            if (_sidebar is not null)
                await _sidebar.RefreshAsync();
            StateHasChanged();
        }
        catch (Exception e) when (token.IsCancellationRequested || e is ObjectDisposedException)
        {
            // the page moved to another chat, the circuit ended or the server is stopping: the reply goes on without this view
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    }

    private void StopFollowing()
    {
        _following.Cancel();
        _following.Dispose();
        _following = new();
        (_streamingId, _stream) = (null, null);
    }

    /// <summary>
    /// The composer's text: stored first (nothing after that can lose it), then answered. True when it was stored.
    /// Called by the composer (from the browser's Enter or its Send button), so this page redraws itself.
    /// </summary>
    private async Task<bool> SendAsync(string text)
    {
        text = text.Trim();
        if (text.Length == 0 || _sending || Tree.IsReplying || _model is null)
            return false;
        (_sending, _error) = (true, null);
        using var activity = ChatTelemetry.Source.StartActivity("chat.send");
        try
        {
            var conversationId = _view?.Conversation.Id ?? (await Store.CreateAsync(_userId, _model, _settings)).Id;
            var message = await Store.AddUserMessageAsync(_userId, conversationId, Tree.Last?.Id, text)
                ?? throw new InvalidOperationException("This chat no longer exists.");
            if (_view is null)
            {
                _shownId = conversationId;
                Navigation.NavigateTo($"/chat/{conversationId}", replace: true);
            }
            await StartReplyAsync(conversationId, message.Id);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            _error = e.Message;
            return false;
        }
        finally
        {
            _sending = false;
            StateHasChanged();
        }
    }

    private async Task StartReplyAsync(Guid conversationId, Guid userMessageId)
    {
        using var activity = ChatTelemetry.Source.StartActivity("chat.reply");
        string? error = null;
        try
        {
            await Replies.StartAsync(_userId, conversationId, userMessageId);
        }
        catch (Exception e) when (e is CompletionRefusedException or ArgumentException or InvalidOperationException)
        {
            error = e.Message; // the user's message is stored; they can edit it, change settings or regenerate later
        }
        await RefreshQuotaAsync();
        _window = Math.Max(_window, Tree.Path.Count + 2); // the new turn joins what is shown; nothing scrolls out of it
        await LoadAsync();
        _error = error; // after the reload, which clears what belonged to the chat shown before
        if (_sidebar is not null)
            await _sidebar.RefreshAsync();
    }

    private async Task StopAsync()
    {
        if (Tree.IsReplying)
            await Replies.StopAsync(_userId, Tree.Last!.Id);
    }

    private async Task RegenerateAsync(Message reply)
    {
        if (_view is null || reply.ParentId is not { } question || Tree.IsReplying)
            return;
        _error = null;
        await StartReplyAsync(_view.Conversation.Id, question);
    }

    private async Task EditAsync((Message Message, string Content) edit)
    {
        if (_view is null || Tree.IsReplying)
            return;
        _error = null;
        try
        {
            if (await Store.AddUserMessageAsync(_userId, _view.Conversation.Id, edit.Message.ParentId, edit.Content.Trim()) is { } message)
                await StartReplyAsync(_view.Conversation.Id, message.Id);
        }
        catch (ArgumentException e)
        {
            _error = e.Message;
        }
    }

    /// <summary>Shows the previous or next version of a turn, down to that version's newest message.</summary>
    private async Task ShowVersionAsync((Message Message, int Step) change)
    {
        if (_view is null || Tree.Version(change.Message, change.Step) is not { } version)
            return;
        await Store.ShowVersionAsync(_userId, _view.Conversation.Id, version);
        await LoadAsync();
    }

    private async Task ShowEarlierAsync()
    {
        _window += ConversationStore.DefaultWindow;
        await LoadAsync();
    }

    private async Task CopyAsync(string text)
    {
        await JS.InvokeVoidAsync("navigator.clipboard.writeText", text);
        Snackbar.Add("Copied", Severity.Success);
    }

    private async Task RateAsync((Message Message, short? Rating, string? Comment) rating)
    {
        try
        {
            if (await Store.RateAsync(_userId, rating.Message.Id, rating.Rating, rating.Comment))
                (rating.Message.Rating, rating.Message.RatingComment) = (rating.Rating, rating.Comment);
            if (rating.Comment is { Length: > 0 })
                Snackbar.Add("Thanks for the feedback", Severity.Info);
        }
        catch (ArgumentException e)
        {
            _error = e.Message;
        }
    }

    private async Task SaveSettingsAsync(ConversationSettings settings)
    {
        _settings = settings;
        if (_view is not null && _model is not null)
            await Store.SetSettingsAsync(_userId, _view.Conversation.Id, _model, settings);
        _settingsOpen = false;
        Snackbar.Add(_view is null ? "Settings will apply to this new chat" : "Settings saved", Severity.Success);
    }

    private async Task ModelChangedAsync(string model)
    {
        _model = model;
        if (_view is not null)
            await Store.SetSettingsAsync(_userId, _view.Conversation.Id, model, _view.Conversation.Settings);
    }

    private void OnRenamed((Guid Id, string Title) renamed)
    {
        if (_view?.Conversation.Id == renamed.Id)
            _view.Conversation.Title = renamed.Title;
    }

    private Task OnDeletedAsync(Guid id)
    {
        if (_view?.Conversation.Id == id)
            Navigation.NavigateTo("/chat");
        return Task.CompletedTask;
    }

    private async Task RefreshQuotaAsync() => _daily = await Limiter.DailyTokensAsync(_userId, _plan ??= await Plans.ForUserAsync(_userId));

    // The model named one of this user's chats (on any instance); raised on a background thread.
    private void OnTitleChanged(TitleChange change)
    {
        if (change.UserId != _userId)
            return;
        _ = InvokeAsync(async () =>
        {
            try
            {
                _lastTitle = change;
                if (_view?.Conversation.Id == change.ConversationId)
                    _view.Conversation.Title = change.Title;
                if (_sidebar is not null)
                    await _sidebar.RefreshAsync();
                StateHasChanged();
            }
            catch (Exception e)
            {
                await DispatchExceptionAsync(e);
            }
        });
    }

    public void Dispose()
    {
        Replies.TitleChanged -= OnTitleChanged;
        Catalog.Changed -= OnModelsChanged;
        _following.Cancel();
        _following.Dispose();
    }
}
