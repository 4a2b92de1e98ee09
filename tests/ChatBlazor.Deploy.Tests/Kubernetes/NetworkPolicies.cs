using System.Net;
using System.Text.Json.Nodes;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>
/// The NetworkPolicy semantics of the Kubernetes API, evaluated over a small model of a cluster: may this endpoint
/// open a connection to that one on this port? A connection needs the sender's egress and the receiver's ingress to
/// allow it; a pod that no policy of a direction selects is open in that direction.
/// </summary>
/// <remarks>Pod addresses are taken from 10.244.0.0/16 (a common pod network) so that ipBlock rules can be judged.</remarks>
internal sealed class NetworkPolicies(IReadOnlyList<JsonObject> policies)
{
    public bool Allows(Endpoint from, Endpoint to, int port, string protocol = "TCP") =>
        Permits(from, to, port, protocol, "Egress") && Permits(to, from, port, protocol, "Ingress");

    /// <summary>The receiver's side alone: what it admits from a sender whose own egress nothing limits.</summary>
    public bool Admits(Endpoint from, Endpoint to, int port, string protocol = "TCP") =>
        Permits(to, from, port, protocol, "Ingress");

    /// <summary>Whether the policies of <paramref name="subject"/>'s namespace let it talk with <paramref name="peer"/>.</summary>
    private bool Permits(Endpoint subject, Endpoint peer, int port, string protocol, string direction)
    {
        if (subject.Namespace is null)
            return true; // outside the cluster: nothing here governs it
        var selecting = policies
            .Where(p => (string?)p["metadata"]!["namespace"] == subject.Namespace)
            .Where(p => Labels.Selects(p["spec"]!["podSelector"]!.AsObject(), subject.Labels))
            .Where(p => Types(p).Contains(direction))
            .ToList();
        if (selecting.Count == 0)
            return true;
        var (rules, peers) = direction == "Ingress" ? ("ingress", "from") : ("egress", "to");
        // The port is the receiver's: in ingress the subject's, in egress the peer's.
        var receiver = direction == "Ingress" ? subject : peer;
        return selecting.SelectMany(p => (p["spec"]![rules]?.AsArray() ?? []).Select(r => (Policy: p, Rule: r!)))
            .Any(x => PeersMatch(x.Rule[peers]?.AsArray(), (string)x.Policy["metadata"]!["namespace"]!, peer)
                      && PortsMatch(x.Rule["ports"]?.AsArray(), receiver, port, protocol));
    }

    private static IEnumerable<string> Types(JsonObject policy) =>
        policy["spec"]!["policyTypes"]?.AsArray().Select(t => (string)t!)
        ?? (policy["spec"]!["egress"] is null ? ["Ingress"] : ["Ingress", "Egress"]);

    private static bool PeersMatch(JsonArray? peers, string policyNamespace, Endpoint peer)
    {
        if (peers is null || peers.Count == 0)
            return true;
        return peers.Any(p =>
        {
            if (p!["ipBlock"] is { } block)
                return InBlock(peer.Address, block);
            if (peer.Namespace is null)
                return false; // pod and namespace selectors match pods only
            var namespaceMatches = p["namespaceSelector"] is JsonObject ns
                ? Labels.Selects(ns, new JsonObject { ["kubernetes.io/metadata.name"] = peer.Namespace })
                : peer.Namespace == policyNamespace;
            var podMatches = p["podSelector"] is not JsonObject pods || Labels.Selects(pods, peer.Labels);
            return namespaceMatches && podMatches;
        });
    }

    private static bool PortsMatch(JsonArray? ports, Endpoint receiver, int port, string protocol) =>
        ports is null || ports.Count == 0 || ports.Any(p =>
            ((string?)p!["protocol"] ?? "TCP") == protocol
            && (p["port"] is null
                || (p["port"]!.GetValueKind() == System.Text.Json.JsonValueKind.Number
                    ? p["port"]!.GetValue<int>() == port
                    : receiver.NamedPorts.GetValueOrDefault((string)p["port"]!) == port)));

    private static bool InBlock(IPAddress address, JsonNode block) =>
        IPNetwork.Parse((string)block["cidr"]!).Contains(address)
        && !(block["except"]?.AsArray() ?? []).Any(e => IPNetwork.Parse((string)e!).Contains(address));
}

/// <summary>A pod (with a namespace) or an address outside the cluster (without).</summary>
internal sealed record Endpoint(string Name, string? Namespace, JsonObject? Labels, IPAddress Address, IReadOnlyDictionary<string, int> NamedPorts)
{
    private static int _next;

    public static Endpoint Pod(string name, string @namespace, JsonObject labels, IReadOnlyDictionary<string, int>? ports = null)
    {
        var n = Interlocked.Increment(ref _next);
        return new(name, @namespace, labels, IPAddress.Parse($"10.244.{n / 250}.{n % 250 + 2}"), ports ?? new Dictionary<string, int>());
    }

    public static Endpoint Outside(string name, string address) =>
        new(name, null, null, IPAddress.Parse(address), new Dictionary<string, int>());

    public override string ToString() => Name;
}
