namespace ChatBlazor.Deploy.Tests;

/// <summary>The checkout these tests read, found from the test binaries' folder.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatBlazor.sln")))
                return dir.FullName;
        throw new InvalidOperationException("ChatBlazor.sln not found above " + AppContext.BaseDirectory);
    }
}
