using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Stripe;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>The wire protocol: key check, error objects, nested form keys, expand, idempotency replays.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task WrongSecretKeyIsRefusedWith401AsStripeDoes()
    {
        await using var emulator = await EmulatorServer.StartAsync();

        var error = await Assert.ThrowsAsync<StripeException>(() =>
            new CustomerService(emulator.ClientWithKey("sk_test_wrong_key_1234")).CreateAsync(new CustomerCreateOptions { Email = "a@example.com" }));

        Assert.Equal(HttpStatusCode.Unauthorized, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Contains("1234", error.StripeError.Message);
    }

    [Fact]
    public async Task MissingKeyGetsStripesErrorObject()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var http = emulator.Http();

        var response = await http.GetAsync("/v1/customers");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Contains("API key", (string?)error["message"]);
    }

    [Fact]
    public async Task BasicAuthWithTheKeyAsUserWorksLikeCurlDashU()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var http = emulator.Http();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(EmulatorServer.SecretKey + ":")));

        var response = await http.GetAsync("/v1/customers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["object"]);
    }

    [Fact]
    public async Task UnknownObjectIs404ResourceMissingWithParam()
    {
        await using var emulator = await EmulatorServer.StartAsync();

        var error = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(emulator.Client).GetAsync("cus_nope"));

        Assert.Equal(HttpStatusCode.NotFound, error.HttpStatusCode);
        Assert.Equal("resource_missing", error.StripeError.Code);
        Assert.Equal("id", error.StripeError.Param);
        Assert.Equal("No such customer: 'cus_nope'", error.StripeError.Message);
    }

    [Fact]
    public async Task MissingRequiredParamIs400NamingTheParam()
    {
        await using var emulator = await EmulatorServer.StartAsync();

        var error = await Assert.ThrowsAsync<StripeException>(() =>
            new ProductService(emulator.Client).CreateAsync(new ProductCreateOptions { Description = "no name" }));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("parameter_missing", error.StripeError.Code);
        Assert.Equal("name", error.StripeError.Param);
    }

    [Fact]
    public async Task UnknownUrlIs404InvalidRequest()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var http = emulator.Http();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", EmulatorServer.SecretKey);

        var response = await http.GetAsync("/v1/payment_links");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["type"]);
    }

    [Fact]
    public async Task NestedKeysRoundTripThroughStripeNet()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var customers = new CustomerService(emulator.Client);

        var created = await customers.CreateAsync(new CustomerCreateOptions
        {
            Email = "nested@example.com",
            Metadata = new Dictionary<string, string> { ["user_id"] = "42", ["plan"] = "free" },
        });
        var updated = await customers.UpdateAsync(created.Id, new CustomerUpdateOptions
        {
            Metadata = new Dictionary<string, string> { ["plan"] = "pro", ["user_id"] = "" },
        });

        Assert.StartsWith("cus_", created.Id);
        Assert.Equal("customer", created.Object);
        Assert.Equal("42", created.Metadata["user_id"]);
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "pro" }, updated.Metadata);
        Assert.True(created.Created > DateTime.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task ExpandReplacesAnIdByTheObject()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var product = await new ProductService(emulator.Client).CreateAsync(new ProductCreateOptions { Name = "Pro" });
        var price = await new PriceService(emulator.Client).CreateAsync(new PriceCreateOptions
        {
            Product = product.Id, Currency = "usd", UnitAmount = 2000,
            Recurring = new PriceRecurringOptions { Interval = "month" },
        });

        var plain = await new PriceService(emulator.Client).GetAsync(price.Id);
        var expanded = await new PriceService(emulator.Client).GetAsync(price.Id, new PriceGetOptions { Expand = ["product"] });

        Assert.Equal(product.Id, plain.ProductId);
        Assert.Null(plain.Product);
        Assert.Equal("Pro", expanded.Product.Name);
    }

    [Fact]
    public async Task SameIdempotencyKeyAndBodyReplaysTheFirstAnswer()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var customers = new CustomerService(emulator.Client);
        var options = new CustomerCreateOptions { Email = "once@example.com" };

        var first = await customers.CreateAsync(options, new RequestOptions { IdempotencyKey = "key-1" });
        var second = await customers.CreateAsync(options, new RequestOptions { IdempotencyKey = "key-1" });
        var all = await customers.ListAsync(new CustomerListOptions { Email = "once@example.com" });

        Assert.Equal(first.Id, second.Id);
        Assert.Single(all.Data);
        Assert.Equal("true", second.StripeResponse.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task SameIdempotencyKeyWithOtherParametersIsAnIdempotencyError()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var customers = new CustomerService(emulator.Client);
        await customers.CreateAsync(new CustomerCreateOptions { Email = "a@example.com" }, new RequestOptions { IdempotencyKey = "key-2" });

        var error = await Assert.ThrowsAsync<StripeException>(() =>
            customers.CreateAsync(new CustomerCreateOptions { Email = "b@example.com" }, new RequestOptions { IdempotencyKey = "key-2" }));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("idempotency_error", error.StripeError.Type);
    }

    [Fact]
    public async Task ErrorsAreReplayedForTheirIdempotencyKeyToo()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var customers = new CustomerService(emulator.Client);
        var options = new CustomerUpdateOptions { Email = "x@example.com" };

        var first = await Assert.ThrowsAsync<StripeException>(() => customers.UpdateAsync("cus_missing", options, new RequestOptions { IdempotencyKey = "key-3" }));
        var second = await Assert.ThrowsAsync<StripeException>(() => customers.UpdateAsync("cus_missing", options, new RequestOptions { IdempotencyKey = "key-3" }));

        Assert.Equal(HttpStatusCode.NotFound, first.HttpStatusCode);
        Assert.Equal(first.StripeError.Message, second.StripeError.Message);
        Assert.Equal("true", second.StripeResponse.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task ListsPageNewestFirstWithStartingAfter()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var customers = new CustomerService(emulator.Client);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await customers.CreateAsync(new CustomerCreateOptions { Email = $"page{i}@example.com" })).Id);

        var first = await customers.ListAsync(new CustomerListOptions { Limit = 2 });
        var rest = await customers.ListAsync(new CustomerListOptions { Limit = 2, StartingAfter = first.Data[^1].Id });

        Assert.Equal([ids[2], ids[1]], first.Data.Select(c => c.Id));
        Assert.True(first.HasMore);
        Assert.Equal([ids[0]], rest.Data.Select(c => c.Id));
        Assert.False(rest.HasMore);
    }
}
