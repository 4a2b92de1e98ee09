using System.Text.Json.Nodes;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>
/// The rendered NetworkPolicies, evaluated: for each port that matters, exactly which pods may open a connection.
/// The cluster around the app: an ingress-nginx controller, a Prometheus in "monitoring", the cluster DNS, a stray
/// pod in the app's namespace and one in another namespace, an address on the internet and, in prod, one in the
/// managed databases' range.
/// </summary>
[Collection(RenderedOverlays.Collection)]
public class NetworkPolicyTests(RenderedOverlays overlays)
{
    public static TheoryData<string> Overlays => [.. RenderedOverlays.Names];

    private const string Web = "chatblazor-web", Inference = "chatblazor-inference", Migrate = "chatblazor-migrate";
    private const string Controller = "ingress-nginx controller", Prometheus = "prometheus";

    [Theory]
    [MemberData(nameof(Overlays))]
    public void OnlyWebReachesTheInferenceApiAndOnlyPrometheusItsOpsPort(string name)
    {
        var cluster = new Cluster(overlays[name]);

        Assert.Equal([Web], cluster.WhoReaches(Inference, 8000));
        Assert.Equal([Prometheus], cluster.WhoReaches(Inference, 9000));
        // Each receiver holds the line by itself too, whatever the senders' own egress rules.
        Assert.Equal([Web], cluster.WhoIsAdmitted(Inference, 8000));
        Assert.Equal([Prometheus], cluster.WhoIsAdmitted(Inference, 9000));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void OnlyTheIngressControllerAndPrometheusReachWeb(string name)
    {
        var cluster = new Cluster(overlays[name]);

        Assert.Equal([Controller, Prometheus], cluster.WhoReaches(Web, 8080));
        Assert.Equal([Controller, Prometheus], cluster.WhoIsAdmitted(Web, 8080));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void OnlyTheAppsPodsReachPostgresAndRedis(string name)
    {
        var cluster = new Cluster(overlays[name]);

        if (name == "dev")
        {
            Assert.Equal([Migrate, Web], cluster.WhoReaches("postgres", 5432));
            Assert.Equal([Migrate, Web], cluster.WhoReaches("redis", 6379));
            Assert.Equal([Migrate, Web], cluster.WhoIsAdmitted("postgres", 5432));
            Assert.Equal([Migrate, Web], cluster.WhoIsAdmitted("redis", 6379));
            Assert.Empty(cluster.WhoReaches("postgres", 6379)); // a port nothing listens on stays shut too
        }
        else
        {
            // Managed services: what the app's pods may send to their range, and nothing else of ours.
            var database = Endpoint.Outside("managed database", "192.0.2.10");
            Assert.Equal([Migrate, Web], cluster.OurPodsReaching(database, 5432));
            Assert.Equal([Migrate, Web], cluster.OurPodsReaching(database, 6379));
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void OnlyWebReachesTheInternetAndEveryPodReachesTheClusterDns(string name)
    {
        var cluster = new Cluster(overlays[name]);
        var internet = Endpoint.Outside("internet", "93.184.216.34");

        Assert.Equal([Web], cluster.OurPodsReaching(internet, 443));
        Assert.Empty(cluster.OurPodsReaching(internet, 80));
        Assert.Equal(cluster.Ours.Select(p => p.Name).Order(), cluster.OurPodsReaching(cluster.Dns, 53, "UDP"));
        // Web's internet rule does not open the pod network: no pod of another namespace on 443.
        Assert.False(cluster.Policies.Allows(cluster.Pod(Web), cluster.Dns, 443));
    }

    [Fact]
    public void TheEvaluationDeniesWhatADefaultDenyDeniesAndAllowsWhatNoPolicyCovers()
    {
        // The checks above could pass vacuously if the evaluator allowed or denied everything: it does neither.
        var overlay = overlays["dev"];
        var cluster = new Cluster(overlay);
        var defaultDeny = overlay.OfKind("NetworkPolicy").Where(p => (string?)p["metadata"]!["name"] == "default-deny").ToList();

        Assert.False(new NetworkPolicies(defaultDeny).Allows(cluster.Pod(Web), cluster.Pod(Inference), 8000));
        Assert.True(new NetworkPolicies([]).Allows(cluster.Pod("stray pod in the namespace"), cluster.Pod(Inference), 8000));
        Assert.DoesNotContain("stray pod in the namespace", cluster.WhoReaches(Inference, 8000));
    }

    /// <summary>The overlay's pods and the cluster around them.</summary>
    private sealed class Cluster
    {
        public Cluster(Overlay overlay)
        {
            Policies = new NetworkPolicies([.. overlay.OfKind("NetworkPolicy")]);
            Ours = [.. overlay.Workloads().Select(w => Endpoint.Pod((string)w.Workload["metadata"]!["name"]!, overlay.Namespace,
                w.Template["metadata"]!["labels"]!.AsObject(),
                Overlay.Containers(w.Template).SelectMany(c => c["ports"]?.AsArray() ?? []).Where(p => p!["name"] is not null)
                    .ToDictionary(p => (string)p!["name"]!, p => p!["containerPort"]!.GetValue<int>())))];
            Dns = Endpoint.Pod("kube-dns", "kube-system", new JsonObject { ["k8s-app"] = "kube-dns" });
            All =
            [
                .. Ours,
                Endpoint.Pod(Controller, "ingress-nginx", new JsonObject { ["app.kubernetes.io/name"] = "ingress-nginx", ["app.kubernetes.io/component"] = "controller" }),
                Endpoint.Pod(Prometheus, "monitoring", new JsonObject { ["app.kubernetes.io/name"] = "prometheus" }),
                Dns,
                Endpoint.Pod("stray pod in the namespace", overlay.Namespace, new JsonObject { ["app.kubernetes.io/name"] = "debug" }),
                Endpoint.Pod("stray pod elsewhere", "default", new JsonObject { ["app"] = "chatblazor-web" }),
            ];
        }

        public NetworkPolicies Policies { get; }
        public IReadOnlyList<Endpoint> Ours { get; }
        public IReadOnlyList<Endpoint> All { get; }
        public Endpoint Dns { get; }

        public Endpoint Pod(string name) => All.Single(p => p.Name == name);

        /// <summary>Every pod that may connect to <paramref name="target"/>'s port, by name, sorted.</summary>
        public List<string> WhoReaches(string target, int port) =>
            [.. All.Where(p => p.Name != target && Policies.Allows(p, Pod(target), port)).Select(p => p.Name).Order()];

        public List<string> WhoIsAdmitted(string target, int port) =>
            [.. All.Where(p => p.Name != target && Policies.Admits(p, Pod(target), port)).Select(p => p.Name).Order()];

        public List<string> OurPodsReaching(Endpoint target, int port, string protocol = "TCP") =>
            [.. Ours.Where(p => Policies.Allows(p, target, port, protocol)).Select(p => p.Name).Order()];
    }
}
