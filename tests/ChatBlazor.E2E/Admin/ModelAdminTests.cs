using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatBlazor.Core.Identity;
using ChatBlazor.E2E.Fleet;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatBlazor.E2E.Admin;

/// <summary>
/// Two instances of the app sharing one database and Redis (as a fleet behind a load balancer), both serving the
/// embedded chatblazor-mini and a remote host's "scripted": an admin's change on one instance's console reaches the
/// other's chat picker and /v1/models without a restart.
/// </summary>
public class ModelAdminTests(ModelAdminTests.TwoInstances fleet) : IClassFixture<ModelAdminTests.TwoInstances>
{
    /// <summary>One instance; given another, it uses that one's database and Redis keys instead of its own.</summary>
    public sealed class Instance : BrowserApp
    {
        public Instance(string hostUrl, Instance? shareWith = null)
        {
            Set("Inference:Hosts:0:Url", hostUrl);
            Set("Inference:Hosts:0:Models:0", ScriptedModelHostDouble.Model);
            if (shareWith is not null)
            {
                // Set after AppFactory's own connection string, so it wins; the database made for this instance stays unused.
                Set("ConnectionStrings:Postgres", shareWith.ConnectionString);
                Set("Replies:KeyPrefix", shareWith.ReplyKeyPrefix);
            }
        }
    }

    public sealed class TwoInstances : IAsyncLifetime
    {
        public ScriptedModelHostDouble Host { get; private set; } = null!;
        public Instance First { get; private set; } = null!;
        public Instance Second { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Host = await ScriptedModelHostDouble.StartAsync();
            Host.AutoReply = true;
            First = new Instance(Host.Url);
            await First.InitializeAsync();
            Second = new Instance(Host.Url, shareWith: First);
            await Second.InitializeAsync();
        }

        public async Task DisposeAsync()
        {
            await ((IAsyncLifetime)Second).DisposeAsync();
            await ((IAsyncLifetime)First).DisposeAsync();
            await Host.DisposeAsync();
        }
    }

    private const string Password = "Str0ng!pass";

    /// <summary>An admin account made in the database, signed in through the login page of <paramref name="app"/>.</summary>
    private static async Task<IPage> AdminPageAsync(BrowserApp app)
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true };
            Assert.True((await users.CreateAsync(user, Password)).Succeeded);
            Assert.True((await users.AddToRoleAsync(user, Roles.Admin)).Succeeded);
        }
        var page = await app.NewPageAsync();
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await Expect(page.GetByTestId("chat-input")).ToBeEnabledAsync();
        await OpenModelsAsync(page);
        return page;
    }

    /// <summary>The console's models page, once interactive: a click on the prerendered page would be lost.</summary>
    private static async Task OpenModelsAsync(IPage page)
    {
        await page.GotoAsync("/admin/models");
        await Expect(page.GetByTestId("admin-models")).ToHaveAttributeAsync("data-interactive", "true");
    }

    private static async Task<string[]> ListedAsync(BrowserApp app, string key)
    {
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var list = await http.GetFromJsonAsync<JsonElement>("/v1/models");
        return [.. list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];
    }

    /// <summary>Polls /v1/models until <paramref name="listed"/> holds for "scripted" (the change travels over Redis); a deadline, not a timing assert.</summary>
    private static async Task WaitForListingAsync(BrowserApp app, string key, bool listed)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await ListedAsync(app, key)).Contains(ScriptedModelHostDouble.Model) != listed)
            await Task.Delay(100, timeout.Token);
    }

    private static ILocator PickerOption(IPage page, string model) =>
        page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new($"^\\s*{model}\\s*$") });

    private static ILocator EnabledSwitch(IPage page, string model) =>
        page.Locator($"[data-testid=admin-model-row][data-model=\"{model}\"]")
            .Locator("input[data-testid=admin-model-enabled], [data-testid=admin-model-enabled] input");

    [Fact]
    public async Task DisablingAModelOnOneInstanceRemovesItFromThePickerAndV1ModelsOfTheOtherUntilReEnabled()
    {
        var admin = await AdminPageAsync(fleet.First);
        var user = await ChatFlowTests.SignedInPageAsync(fleet.Second);
        var (_, key) = await fleet.Second.UserWithKeyAsync();
        await Expect(admin.Locator("[data-testid=admin-model-row]")).ToHaveCountAsync(2);
        await Expect(admin.GetByTestId("admin-model-state").Last).ToHaveTextAsync("Reachable"); // the remote host's live state, read in the background
        Assert.Contains(ScriptedModelHostDouble.Model, await ListedAsync(fleet.Second, key));

        await user.GetByTestId("model-picker").ClickAsync();
        await Expect(PickerOption(user, ScriptedModelHostDouble.Model)).ToBeVisibleAsync();

        await EnabledSwitch(admin, ScriptedModelHostDouble.Model).UncheckAsync();

        // The open picker on the other instance follows; so does its API.
        await Expect(PickerOption(user, ScriptedModelHostDouble.Model)).ToHaveCountAsync(0);
        await Expect(PickerOption(user, "chatblazor-mini")).ToBeVisibleAsync();
        await WaitForListingAsync(fleet.Second, key, listed: false);
        await admin.GotoAsync("/admin/audit");
        await Expect(admin.GetByTestId("admin-audit-row").First).ToHaveAttributeAsync("data-action", "model.change");

        await OpenModelsAsync(admin);
        await EnabledSwitch(admin, ScriptedModelHostDouble.Model).CheckAsync();

        await Expect(PickerOption(user, ScriptedModelHostDouble.Model)).ToBeVisibleAsync();
        await WaitForListingAsync(fleet.Second, key, listed: true);
    }
}
