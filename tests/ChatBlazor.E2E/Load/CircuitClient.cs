using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Security;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBlazor.E2E.Load;

/// <summary>
/// One user on the chat page without a browser: a Blazor Server circuit spoken to over SignalR as blazor.web.js
/// speaks to it. It signs in through the account forms (cookie), reads the prerendered component markers of /chat,
/// starts the circuit, acknowledges every render batch, answers the page's JavaScript calls (the composer's binding
/// and the navigation to a new chat as the browser would, the rest with an empty success) and sends a message by
/// calling the composer's [JSInvokable] SendTextAsync, as app.js does on Enter. What it sees of the reply comes from
/// the render batches: when reply text arrives, and the assistant message's data-status.
/// A browser page costs hundreds of MB and a core's share on this machine; this costs the server what a browser
/// costs it, and the client almost nothing, so a fleet's limit is the fleet's.
/// </summary>
public sealed partial class CircuitClient : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly string[] Endings = ["complete", "stopped", "length", "failed", "filtered"];

    private readonly Uri _base;
    private readonly CookieContainer _cookies = new();
    private readonly HttpClient _http;
    private readonly string? _trustedHost;
    private HubConnection? _hub;
    private readonly TaskCompletionSource<long> _composer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Reply? _reply;
    private TaskCompletionSource? _emptyChat;
    private int _nextCallId, _nextJsObject;

    /// <param name="trustedHost">A host whose certificate is accepted though no authority signed it (a test proxy's self-signed one).</param>
    private CircuitClient(string baseUrl, string? trustedHost)
    {
        _base = new Uri(baseUrl.TrimEnd('/') + "/");
        _trustedHost = trustedHost;
        var handler = new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false };
        if (trustedHost is not null)
            handler.ServerCertificateCustomValidationCallback = (request, _, _, errors) => errors == SslPolicyErrors.None || request.RequestUri?.Host == trustedHost;
        _http = new HttpClient(handler) { BaseAddress = _base, Timeout = Wait };
    }

    /// <summary>Render batches received since the circuit started.</summary>
    public int Batches { get; private set; }

    /// <summary>Why the circuit ended or failed (JS.Error, a closed connection, a failed call); null while it is healthy.</summary>
    public string? Failure { get; private set; }

    /// <summary>The chat the page moved to when its first message was stored.</summary>
    public Guid? ConversationId { get; private set; }

    public static async Task<CircuitClient> SignInAsync(string baseUrl, string email, string password, string? trustedHost = null)
    {
        var client = new CircuitClient(baseUrl, trustedHost);
        await client.SubmitAsync("Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = password });
        return client;
    }

    /// <summary>A new account through the registration form (an installation that confirms emails would not sign it in).</summary>
    public static async Task<CircuitClient> RegisterAsync(string baseUrl, string email, string password, string? trustedHost = null)
    {
        var client = new CircuitClient(baseUrl, trustedHost);
        await client.SubmitAsync("Account/Register", new() { ["Input.Email"] = email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password });
        return client;
    }

    // A static server-rendered form as a browser without JavaScript posts it: its hidden fields (antiforgery) and ours.
    private async Task SubmitAsync(string path, Dictionary<string, string> fields)
    {
        var page = await _http.GetStringAsync(path);
        var form = HiddenInput().Matches(page).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        foreach (var (name, value) in fields)
            form[name] = value;
        using var response = await _http.PostAsync(path, new FormUrlEncodedContent(form));
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.ToString().Contains("Account/", StringComparison.OrdinalIgnoreCase) == true)
        {
            // The form shown again says why (validation messages, a throttled sign-in).
            var why = Problem().Matches(await response.Content.ReadAsStringAsync()).Select(m => WebUtility.HtmlDecode(m.Groups["text"].Value.Trim()));
            throw new InvalidOperationException($"{path} did not sign in: {(int)response.StatusCode} {response.Headers.Location} {string.Join(" ", why)}");
        }
    }

    /// <summary>Opens /chat on a circuit of its own and waits until its composer is bound (the moment a user could type).</summary>
    public async Task OpenChatAsync()
    {
        var html = await _http.GetStringAsync("chat");
        var markers = Marker().Matches(html).Select(m => JsonNode.Parse(m.Groups["json"].Value)!).ToList();
        if (markers.Count == 0)
            throw new InvalidOperationException("/chat has no interactive server components (signed out?).");
        var state = ServerState().Match(html) is { Success: true } s ? s.Groups["state"].Value : "";

        var builder = new HubConnectionBuilder();
        builder.Services.AddSingleton<IHubProtocol>(new BlazorPack());
        _hub = builder
            .WithUrl(new Uri(_base, "_blazor"), HttpTransportType.WebSockets, options =>
            {
                options.Cookies = _cookies;
                if (_trustedHost is not null)
                {
                    options.HttpMessageHandlerFactory = handler =>
                    {
                        if (handler is HttpClientHandler http)
                            http.ServerCertificateCustomValidationCallback = (request, _, _, errors) => errors == SslPolicyErrors.None || request.RequestUri?.Host == _trustedHost;
                        return handler;
                    };
                    // The socket's callback is not told the host; this socket only ever dials the client's own base host.
                    options.WebSocketConfiguration = socket => socket.RemoteCertificateValidationCallback = (_, _, _, errors) => errors == SslPolicyErrors.None || _base.Host == _trustedHost;
                }
            })
            .Build();
        _hub.On("JS.RenderBatch", [typeof(long), typeof(byte[])], args => OnRenderBatchAsync((long)args[0]!, (byte[])args[1]!));
        _hub.On("JS.BeginInvokeJS", [typeof(long), typeof(string), typeof(string), typeof(int), typeof(long), typeof(int)],
            args => OnBeginInvokeJSAsync((long)args[0]!, (string)args[1]!, (string?)args[2], (int)args[3]!));
        _hub.On("JS.EndInvokeDotNet", [typeof(string), typeof(bool), typeof(string)], args =>
        {
            if (!(bool)args[1]!)
                Fail($"a .NET call from the page failed: {args[2]}");
            return Task.CompletedTask;
        });
        _hub.On("JS.EndUpdateRootComponents", [typeof(long)], _ => Task.CompletedTask);
        _hub.On("JS.Error", [typeof(string)], args =>
        {
            Fail($"circuit error: {args[0]}");
            return Task.CompletedTask;
        });
        _hub.Closed += error =>
        {
            Fail($"connection closed: {error?.Message ?? "by the server"}");
            return Task.CompletedTask;
        };

        await _hub.StartAsync();
        var secret = await _hub.InvokeAsync<string?>("StartCircuit", _base.ToString(), new Uri(_base, "chat").ToString(), "[]", state);
        if (secret is null)
            throw new InvalidOperationException($"The server refused the circuit: {Failure}");
        // As WebRootComponentManager adds what it discovered: one "add" per marker, numbered from 1 in document order.
        var operations = markers.Select((marker, i) => new JsonObject { ["type"] = "add", ["ssrComponentId"] = i + 1, ["marker"] = marker });
        var batch = new JsonObject { ["batchId"] = 1, ["operations"] = new JsonArray([.. operations]) };
        await _hub.SendAsync("UpdateRootComponents", batch.ToJsonString(), state);
        await _composer.Task.WaitAsync(Wait);
    }

    /// <summary>
    /// Moves the page to a new, empty chat, as the sidebar's "New chat" link does (the router, told of the new address,
    /// shows /chat again); returns once the empty chat is on screen. A model's context window fills in a long chat.
    /// </summary>
    public async Task NewChatAsync()
    {
        _emptyChat = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await _hub!.SendAsync("OnLocationChanged", new Uri(_base, "chat").ToString(), null, false);
        await _emptyChat.Task.WaitAsync(Wait);
        ConversationId = null;
    }

    /// <summary>Sends a message as Enter in the composer does; the reply is followed until it ends.</summary>
    public async Task<Reply> SendAsync(string text)
    {
        var composer = await _composer.Task;
        var reply = new Reply(text);
        _reply = reply;
        var callId = Interlocked.Increment(ref _nextCallId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _hub!.SendAsync("BeginInvokeDotNetFromJS", callId, null, "SendTextAsync", composer, JsonSerializer.Serialize(new[] { text }));
        return reply;
    }

    private async Task OnRenderBatchAsync(long id, byte[] data)
    {
        Batches++;
        var batch = RenderBatch.Read(data);
        if (_reply is { } reply && !reply.Ended.IsCompleted)
            reply.See(batch);
        if (batch.Attributes.Any(a => a is { Name: "data-testid", Value: "chat-empty" }))
            _emptyChat?.TrySetResult();
        // The browser acknowledges a batch once applied; the server keeps only so many unacknowledged
        // (CircuitOptions.MaxBufferedUnacknowledgedRenderBatches) before it stops sending, as to a slow browser.
        await _hub!.SendAsync("OnRenderCompleted", id, null);
    }

    private async Task OnBeginInvokeJSAsync(long handle, string identifier, string? argsJson, int resultType)
    {
        var args = argsJson is null ? null : JsonNode.Parse(argsJson)?.AsArray();
        JsonNode? result = null;
        Uri? navigatedTo = null;
        switch (identifier)
        {
            case "chatBlazor.bindComposer":
                _composer.TrySetResult(args![1]!["__dotNetObject"]!.GetValue<long>());
                break;
            case "Blazor._internal.navigationManager.navigateTo":
                navigatedTo = new Uri(_base, args![0]!.GetValue<string>());
                if (Guid.TryParse(navigatedTo.Segments[^1], out var conversation))
                    ConversationId = conversation;
                break;
        }
        if (resultType == 1) // JSCallResultType.JSObjectReference: the caller goes on to call methods on it
            result = new JsonObject { ["__jsObjectId"] = Interlocked.Increment(ref _nextJsObject) };
        if (handle != 0)
            await _hub!.SendAsync("EndInvokeJSFromDotNet", handle, true, new JsonArray(handle, true, result).ToJsonString());
        // The browser changes its address, then tells the circuit, which routes the page to it.
        if (navigatedTo is not null)
            await _hub!.SendAsync("OnLocationChanged", navigatedTo.ToString(), null, false);
    }

    private void Fail(string why)
    {
        Failure ??= why;
        _composer.TrySetException(new InvalidOperationException(why));
        _emptyChat?.TrySetException(new InvalidOperationException(why));
        _reply?.Fail(why);
    }

    public async ValueTask DisposeAsync()
    {
        if (_hub is not null)
            await _hub.DisposeAsync();
        _http.Dispose();
    }

    /// <summary>One message and its reply as this client saw them, with times from the moment it was sent.</summary>
    public sealed class Reply(string message)
    {
        private readonly long _sent = Stopwatch.GetTimestamp();
        private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _started;

        public string Message { get; } = message;

        /// <summary>Milliseconds after sending at which each batch that carried reply text arrived.</summary>
        public List<double> TextBatches { get; } = [];

        /// <summary>Render batches that arrived while the reply was followed.</summary>
        public int Batches { get; private set; }

        /// <summary>The reply's text as the page last showed it (its final rendering once ended).</summary>
        public string Text { get; private set; } = "";

        /// <summary>The assistant message's final data-status ("complete", "failed", …).</summary>
        public Task<string> Ended => _ended.Task;

        internal void See(RenderBatch batch)
        {
            Batches++;
            var elapsed = Stopwatch.GetElapsedTime(_sent).TotalMilliseconds;
            // Reply text is Markdown rendered to HTML (markup frames); an icon's SVG is markup too, but has no text.
            var texts = batch.Markup.Select(m => WebUtility.HtmlDecode(Tag().Replace(m, "")).Trim()).Where(t => t.Length > 0).ToList();
            if (texts.Count > 0)
            {
                TextBatches.Add(elapsed);
                Text = texts[^1];
            }
            foreach (var status in batch.Attributes.Where(a => a.Name == "data-status"))
            {
                if (status.Previous is { Name: "data-testid", Value: "message-user" })
                    continue; // the user's message, inserted with the reply: always complete
                if (status.Value is "queued" or "streaming")
                    _started = true;
                else if (Endings.Contains(status.Value) && (_started || status.Previous is { Name: "data-testid", Value: "message-assistant" }))
                    _ended.TrySetResult(status.Value!);
            }
        }

        internal void Fail(string why) => _ended.TrySetException(new InvalidOperationException(why));
    }

    /// <summary>
    /// The circuit's hub protocol: MessagePack under the name "blazorpack" (the server accepts no other; its own
    /// reader is MessagePack's hub protocol with a few types of its own that a client never sends).
    /// </summary>
    private sealed class BlazorPack : IHubProtocol
    {
        private readonly MessagePackHubProtocol _messagePack = new();

        public string Name => "blazorpack";
        public int Version => _messagePack.Version;
        public TransferFormat TransferFormat => TransferFormat.Binary;
        public bool IsVersionSupported(int version) => _messagePack.IsVersionSupported(version);

        public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message) =>
            _messagePack.TryParseMessage(ref input, binder, out message);

        public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _messagePack.WriteMessage(message, output);
        public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _messagePack.GetMessageBytes(message);
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)"\s*/?>""")]
    private static partial Regex HiddenInput();

    [GeneratedRegex("""<!--Blazor:(?<json>\{"type":"server".*?\})-->""")]
    private static partial Regex Marker();

    [GeneratedRegex("""<!--Blazor-Server-Component-State:(?<state>[A-Za-z0-9+/=]+)-->""")]
    private static partial Regex ServerState();

    [GeneratedRegex("""(?:validation-message|cb-field-error|mud-alert-message)[^>]*>(?<text>[^<]+)<""")]
    private static partial Regex Problem();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();
}
