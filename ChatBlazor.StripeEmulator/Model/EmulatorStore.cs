using System.Globalization;
using System.Text.Json.Nodes;
using ChatBlazor.StripeEmulator.Protocol;
using ChatBlazor.StripeEmulator.Webhooks;

namespace ChatBlazor.StripeEmulator.Model;

/// <summary>
/// All of the emulator's state, in memory, behind one lock: every operation takes it for its whole duration, so an
/// operation and the events it emits are one step that no other request can interleave with. Simple beats fast here:
/// an emulator serves one app and its tests.
/// </summary>
public sealed class EmulatorStore(WebhookDispatcher webhooks, TimeProvider clock)
{
    /// <summary>Stripe.net 53.1.0 pins this (StripeConfiguration.ApiVersion); ConstructEvent rejects events without it.</summary>
    public const string ApiVersion = "2026-10-28.endive";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, StripeObject> _objects = new(StringComparer.Ordinal);
    // Insertion order, so lists come newest first like Stripe's without relying on one-second 'created' values.
    private readonly List<StripeObject> _order = [];
    private readonly List<MeterEvent> _meterEvents = [];
    private readonly Dictionary<string, MeterEvent> _meterEventsByIdentifier = new(StringComparer.Ordinal);
    private readonly HashSet<string> _meterSessionTokens = new(StringComparer.Ordinal);
    private int _invoiceNumber;

    public long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Runs <paramref name="work"/> under the lock, then publishes the events it emitted, in order.</summary>
    public T Run<T>(Func<Transaction, T> work)
    {
        lock (_gate)
        {
            var tx = new Transaction(this);
            var result = work(tx);
            if (tx.Events.Count > 0)
                webhooks.Publish(tx.Events);
            return result;
        }
    }

    /// <summary>One operation's view of the store: reads, writes, and the events it emits.</summary>
    public sealed class Transaction(EmulatorStore store)
    {
        public List<StripeEvent> Events { get; } = [];
        public long Now { get; } = store.Now;

        public T Add<T>(T obj) where T : StripeObject
        {
            store._objects.Add(obj.Id, obj);
            store._order.Add(obj);
            return obj;
        }

        public StripeObject? Find(string id) => store._objects.GetValueOrDefault(id);

        public T Get<T>(string id, string what) where T : StripeObject =>
            store._objects.GetValueOrDefault(id) as T ?? throw StripeApiException.NoSuch(what, id);

        /// <summary>Objects of one type, newest first.</summary>
        public IEnumerable<T> All<T>() where T : StripeObject
        {
            for (var i = store._order.Count - 1; i >= 0; i--)
                if (store._order[i] is T match)
                    yield return match;
        }

        public JsonObject Render(object obj, IReadOnlyList<string> expand) =>
            StripeJson.Expand(StripeJson.ToNode(obj), expand, Find);

        public void Emit(string type, StripeObject obj, JsonObject? previousAttributes = null)
        {
            var evt = Add(new StripeEvent
            {
                Id = Ids.New("evt"),
                Created = Now,
                ApiVersion = ApiVersion,
                Type = type,
                Data = new EventData { Object = StripeJson.ToNode(obj), PreviousAttributes = previousAttributes },
                PendingWebhooks = 1,
            });
            Events.Add(evt);
        }

        public List<MeterEvent> MeterEvents => store._meterEvents;
        public Dictionary<string, MeterEvent> MeterEventsByIdentifier => store._meterEventsByIdentifier;
        public HashSet<string> MeterSessionTokens => store._meterSessionTokens;

        public string NextInvoiceNumber() => $"EMU-{++store._invoiceNumber:D6}";
    }

    /// <summary>A page of a list, Stripe style: <c>limit</c> (default 10, at most 100) and <c>starting_after</c>.</summary>
    public static StripeList<T> Page<T>(IEnumerable<T> newestFirst, FormBody form, string url) where T : StripeObject
    {
        var limit = form.Long("limit") ?? 10;
        if (limit is < 1 or > 100)
            throw StripeApiException.InvalidParam("limit", "Invalid limit: must be between 1 and 100");
        var items = newestFirst;
        if (form.String("starting_after") is { } after)
            items = items.SkipWhile(o => o.Id != after).Skip(1);
        var page = items.Take((int)limit + 1).ToList();
        var hasMore = page.Count > limit;
        return new StripeList<T>(hasMore ? page[..(int)limit] : page, url, hasMore);
    }

    public static long PeriodEnd(long start, PriceRecurring recurring)
    {
        var from = DateTimeOffset.FromUnixTimeSeconds(start);
        var count = (int)recurring.IntervalCount;
        return (recurring.Interval switch
        {
            "day" => from.AddDays(count),
            "week" => from.AddDays(7 * count),
            "month" => from.AddMonths(count),
            "year" => from.AddYears(count),
            _ => throw StripeApiException.InvalidParam("recurring[interval]", $"Invalid interval: {recurring.Interval}"),
        }).ToUnixTimeSeconds();
    }

    public static string Amount(long cents, string currency) =>
        string.Create(CultureInfo.InvariantCulture, $"{cents / 100m:0.00} {currency.ToUpperInvariant()}");
}
