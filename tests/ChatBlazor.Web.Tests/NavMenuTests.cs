using Bunit;
using ChatBlazor.Web.Shell;
using MudBlazor.Services;

namespace ChatBlazor.Web.Tests;

public class NavMenuTests : BunitContext
{
    public NavMenuTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Fact]
    public void AdminLinkIsShownToAdmins()
    {
        AddAuthorization().SetAuthorized("admin@example.com").SetRoles("Admin", "User");

        var menu = Render<NavMenu>();

        Assert.NotEmpty(menu.FindAll("[data-testid=nav-admin]"));
        Assert.NotEmpty(menu.FindAll("[data-testid=nav-chat]"));
    }

    [Fact]
    public void AdminLinkIsHiddenFromUsers()
    {
        AddAuthorization().SetAuthorized("user@example.com").SetRoles("User");

        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll("[data-testid=nav-admin]"));
        Assert.NotEmpty(menu.FindAll("[data-testid=nav-billing]"));
    }
}
