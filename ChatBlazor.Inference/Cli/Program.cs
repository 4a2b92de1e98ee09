namespace ChatBlazor.Inference.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: ChatBlazor.Inference <command> ...");
        return 2;
    }
}
