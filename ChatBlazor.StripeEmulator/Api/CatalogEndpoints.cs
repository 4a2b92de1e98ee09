using System.Globalization;
using ChatBlazor.StripeEmulator.Model;
using ChatBlazor.StripeEmulator.Protocol;

namespace ChatBlazor.StripeEmulator.Api;

/// <summary>Customers, products, prices and events: the objects the app creates once and reads back.</summary>
public static class CatalogEndpoints
{
    public static void MapCatalog(this IEndpointRouteBuilder v1)
    {
        v1.MapPost("/customers", CreateCustomer);
        v1.MapGet("/customers", ListCustomers);
        v1.MapGet("/customers/{id}", (HttpContext http, EmulatorStore store, string id) => Retrieve<Customer>(http, store, id, "customer"));
        v1.MapPost("/customers/{id}", UpdateCustomer);

        v1.MapPost("/products", CreateProduct);
        v1.MapGet("/products", ListProducts);
        v1.MapGet("/products/{id}", (HttpContext http, EmulatorStore store, string id) => Retrieve<Product>(http, store, id, "product"));
        v1.MapPost("/products/{id}", UpdateProduct);

        v1.MapPost("/prices", CreatePrice);
        v1.MapGet("/prices", ListPrices);
        v1.MapGet("/prices/{id}", (HttpContext http, EmulatorStore store, string id) => Retrieve<Price>(http, store, id, "price"));

        v1.MapGet("/events", ListEvents);
        v1.MapGet("/events/{id}", (HttpContext http, EmulatorStore store, string id) => Retrieve<StripeEvent>(http, store, id, "event"));
    }

    /// <summary>GET /v1/{things}/{id} with <c>expand[]</c>, for any object type.</summary>
    public static async Task<IResult> Retrieve<T>(HttpContext http, EmulatorStore store, string id, string what) where T : StripeObject
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx => StripeJson.Ok(tx.Render(tx.Get<T>(id, what), form.Expand)));
    }

    /// <summary>Stripe merges metadata: given keys are set, a key given an empty value is removed.</summary>
    public static void MergeMetadata(Dictionary<string, string> target, Dictionary<string, string>? changes)
    {
        if (changes is null)
            return;
        if (changes.Count == 0)
            target.Clear();
        foreach (var (key, value) in changes)
        {
            if (value.Length == 0)
                target.Remove(key);
            else
                target[key] = value;
        }
    }

    private static async Task<IResult> CreateCustomer(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var customer = tx.Add(new Customer
            {
                Id = Ids.New("cus"),
                Created = tx.Now,
                Email = form.String("email"),
                Name = form.String("name"),
                Description = form.String("description"),
                Metadata = form.Map("metadata") ?? [],
            });
            tx.Emit("customer.created", customer);
            return StripeJson.Ok(tx.Render(customer, form.Expand));
        });
    }

    private static async Task<IResult> UpdateCustomer(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var customer = tx.Get<Customer>(id, "customer");
            customer.Email = form.Has("email") ? form.String("email") : customer.Email;
            customer.Name = form.Has("name") ? form.String("name") : customer.Name;
            customer.Description = form.Has("description") ? form.String("description") : customer.Description;
            MergeMetadata(customer.Metadata, form.Map("metadata"));
            tx.Emit("customer.updated", customer);
            return StripeJson.Ok(tx.Render(customer, form.Expand));
        });
    }

    private static async Task<IResult> ListCustomers(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var email = form.String("email");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<Customer>().Where(c => email is null || c.Email == email), form, "/v1/customers"), form.Expand)));
    }

    private static async Task<IResult> CreateProduct(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var product = AddProduct(tx, form);
            tx.Emit("product.created", product);
            return StripeJson.Ok(tx.Render(product, form.Expand));
        });
    }

    /// <summary>A new product from create parameters (<c>id</c> optional, as in Stripe); the API and the catalog file both come here.</summary>
    internal static Product AddProduct(EmulatorStore.Transaction tx, FormBody form)
    {
        var id = form.String("id") ?? Ids.New("prod", 14);
        if (tx.Find(id) is not null)
            throw new StripeApiException(400, "invalid_request_error", "resource_already_exists", $"Product already exists.", "id");
        return tx.Add(new Product
        {
            Id = id,
            Created = tx.Now,
            Updated = tx.Now,
            Name = form.Required("name"),
            Description = form.String("description"),
            Active = form.Bool("active") ?? true,
            Metadata = form.Map("metadata") ?? [],
        });
    }

    private static async Task<IResult> UpdateProduct(HttpContext http, EmulatorStore store, string id)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var product = tx.Get<Product>(id, "product");
            product.Name = form.String("name") ?? product.Name;
            product.Description = form.Has("description") ? form.String("description") : product.Description;
            product.Active = form.Bool("active") ?? product.Active;
            MergeMetadata(product.Metadata, form.Map("metadata"));
            product.Updated = tx.Now;
            tx.Emit("product.updated", product);
            return StripeJson.Ok(tx.Render(product, form.Expand));
        });
    }

    private static async Task<IResult> ListProducts(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var active = form.Bool("active");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<Product>().Where(p => active is null || p.Active == active), form, "/v1/products"), form.Expand)));
    }

    private static async Task<IResult> CreatePrice(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        return store.Run(tx =>
        {
            var price = AddPrice(tx, form, Ids.New("price"));
            tx.Emit("price.created", price);
            return StripeJson.Ok(tx.Render(price, form.Expand));
        });
    }

    /// <summary>
    /// A new price from create parameters. Stripe picks a price's id; the catalog file gives a fixed one (an
    /// emulator-only convenience), the API a random one.
    /// </summary>
    internal static Price AddPrice(EmulatorStore.Transaction tx, FormBody form, string id)
    {
        string productId;
        if (form.String("product") is { } given)
            productId = tx.Get<Product>(given, "product").Id;
        else if (form.String("product_data[name]") is { } name)
            productId = tx.Add(new Product { Id = Ids.New("prod", 14), Created = tx.Now, Updated = tx.Now, Name = name }).Id;
        else
            throw StripeApiException.MissingParam("product");

        PriceRecurring? recurring = null;
        if (form.String("recurring[interval]") is { } interval)
        {
            if (interval is not ("day" or "week" or "month" or "year"))
                throw StripeApiException.InvalidParam("recurring[interval]", $"Invalid recurring[interval]: must be one of day, week, month, or year");
            var usageType = form.String("recurring[usage_type]") ?? "licensed";
            if (usageType is not ("licensed" or "metered"))
                throw StripeApiException.InvalidParam("recurring[usage_type]", "Invalid recurring[usage_type]: must be one of licensed or metered");
            var meter = form.String("recurring[meter]");
            if (usageType == "metered")
            {
                if (meter is null)
                    throw StripeApiException.MissingParam("recurring[meter]");
                tx.Get<Meter>(meter, "billing.meter");
            }
            recurring = new PriceRecurring
            {
                Interval = interval,
                IntervalCount = form.Long("recurring[interval_count]") ?? 1,
                UsageType = usageType,
                Meter = meter,
            };
        }

        if (tx.Find(id) is not null)
            throw new StripeApiException(400, "invalid_request_error", "resource_already_exists", "Price already exists.", "id");
        var (unitAmount, unitAmountDecimal) = UnitAmount(form);
        return tx.Add(new Price
        {
            Id = id,
            Created = tx.Now,
            Currency = form.Required("currency").ToLowerInvariant(),
            UnitAmount = unitAmount,
            UnitAmountDecimal = unitAmountDecimal,
            Product = productId,
            Recurring = recurring,
            Nickname = form.String("nickname"),
            LookupKey = form.String("lookup_key"),
            Active = form.Bool("active") ?? true,
            Metadata = form.Map("metadata") ?? [],
        });
    }

    /// <summary>
    /// <c>unit_amount</c> (whole cents) or <c>unit_amount_decimal</c> (a decimal string in cents with at most 12
    /// decimal places, e.g. <c>0.0002</c> for a per-token price), one of them, as Stripe asks. Both are kept as Stripe
    /// returns them: the decimal string always, the whole amount only when there is no fraction.
    /// </summary>
    private static (long? UnitAmount, string UnitAmountDecimal) UnitAmount(FormBody form)
    {
        var whole = form.Long("unit_amount");
        var text = form.String("unit_amount_decimal");
        if (whole is not null && text is not null)
            throw StripeApiException.InvalidRequest("You may only specify one of these parameters: unit_amount, unit_amount_decimal.");
        if (whole is { } cents)
            return cents < 0
                ? throw StripeApiException.InvalidParam("unit_amount", "Invalid non-negative integer")
                : (cents, cents.ToString(CultureInfo.InvariantCulture));
        if (text is null)
            throw StripeApiException.MissingParam("unit_amount");
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount.Scale > 12)
            throw StripeApiException.InvalidParam("unit_amount_decimal",
                $"Invalid decimal: '{text}'. unit_amount_decimal is a non-negative amount in cents with at most 12 decimal places, such as 0.0002.");
        // Stripe writes the value without trailing zeros ("0.0002", "2000").
        var normalised = amount.ToString("0.############", CultureInfo.InvariantCulture);
        return (amount == decimal.Truncate(amount) ? (long)amount : null, normalised);
    }

    private static async Task<IResult> ListPrices(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var product = form.String("product");
        var active = form.Bool("active");
        var lookupKeys = form.List("lookup_keys");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<Price>().Where(p => (product is null || p.Product == product)
                && (active is null || p.Active == active)
                && (lookupKeys.Count == 0 || (p.LookupKey is not null && lookupKeys.Contains(p.LookupKey)))),
            form, "/v1/prices"), form.Expand)));
    }

    private static async Task<IResult> ListEvents(HttpContext http, EmulatorStore store)
    {
        var form = await FormBody.ReadAsync(http.Request);
        var type = form.String("type");
        return store.Run(tx => StripeJson.Ok(tx.Render(EmulatorStore.Page(
            tx.All<StripeEvent>().Where(e => type is null || e.Type == type), form, "/v1/events"), form.Expand)));
    }
}
