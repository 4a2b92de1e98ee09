using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ChatBlazor.Deploy.Tests.Kubernetes;

/// <summary>What the rendered workloads promise: probes, resources, no root, selectors that select, GPUs in prod.</summary>
[Collection(RenderedOverlays.Collection)]
public class WorkloadTests(RenderedOverlays overlays)
{
    public static TheoryData<string> Overlays => [.. RenderedOverlays.Names];

    [Fact]
    public void AMissingKubectlFailsWithAMessageThatSaysWhatToInstall()
    {
        var empty = Directory.CreateTempSubdirectory("chatblazor-nopath-");
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => Tools.Require("kubectl", empty.FullName));
            Assert.Contains("kubectl not found on PATH", e.Message);
            Assert.Contains("Install kubectl", e.Message);
        }
        finally
        {
            empty.Delete();
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryLongRunningContainerHasProbesAndEveryContainerHasResources(string name)
    {
        foreach (var (workload, template) in overlays[name].Workloads())
            foreach (var container in Overlay.Containers(template))
            {
                var id = $"{workload["kind"]}/{workload["metadata"]!["name"]}/{container["name"]}";
                if ((string?)workload["kind"] != "Job")
                {
                    Assert.True(container["livenessProbe"] is not null, id + " has no liveness probe");
                    Assert.True(container["readinessProbe"] is not null, id + " has no readiness probe");
                }
                Assert.True(container["resources"]?["requests"]?["cpu"] is not null, id + " requests no CPU");
                Assert.True(container["resources"]?["requests"]?["memory"] is not null, id + " requests no memory");
                Assert.True(container["resources"]?["limits"]?["memory"] is not null, id + " has no memory limit");
            }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void WebPodsProbeLiveAndReadyHealthOnTheirHttpPort(string name)
    {
        var web = Overlay.Containers(overlays[name].Template("Deployment", "chatblazor-web")).Single();

        Assert.Equal("/health/live", (string?)web["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/ready", (string?)web["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/live", (string?)web["startupProbe"]!["httpGet"]!["path"]);
        Assert.All(new[] { "livenessProbe", "readinessProbe", "startupProbe" },
            probe => Assert.Equal(8080, PortNumber(web, web[probe]!["httpGet"]!["port"]!)));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryContainerRunsAsNonRootOnAReadOnlyRootFilesystem(string name)
    {
        var overlay = overlays[name];
        Assert.Equal("restricted", (string?)overlay.OfKind("Namespace").Single()["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]);
        foreach (var (workload, template) in overlay.Workloads())
        {
            var pod = template["spec"]!["securityContext"];
            Assert.False(template["spec"]!["hostNetwork"]?.GetValue<bool>() ?? false);
            foreach (var container in Overlay.Containers(template))
            {
                var id = $"{workload["metadata"]!["name"]}/{container["name"]}";
                var own = container["securityContext"];
                JsonNode? Setting(string key) => own?[key] ?? pod?[key];

                Assert.True(Setting("runAsNonRoot")?.GetValue<bool>() == true, id + ": runAsNonRoot");
                Assert.True(Setting("runAsUser")?.GetValue<long>() is > 0, id + ": runAsUser is root or unset");
                Assert.True(own?["readOnlyRootFilesystem"]?.GetValue<bool>() == true, id + ": root filesystem is writable");
                Assert.True(own?["allowPrivilegeEscalation"]?.GetValue<bool>() == false, id + ": may escalate privileges");
                Assert.Contains("ALL", own?["capabilities"]?["drop"]?.AsArray().Select(c => (string?)c) ?? []);
                Assert.Equal("RuntimeDefault", (string?)Setting("seccompProfile")?["type"]);
                if (((string)container["image"]!).StartsWith("chatblazor/", StringComparison.Ordinal))
                {
                    // The images' own user (docker/*.Dockerfile), and a writable /tmp on an emptyDir.
                    Assert.Equal(10001, Setting("runAsUser")!.GetValue<long>());
                    var tmp = container["volumeMounts"]?.AsArray().SingleOrDefault(m => (string?)m!["mountPath"] == "/tmp");
                    Assert.True(tmp is not null, id + " has no /tmp");
                    var volume = template["spec"]!["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)tmp["name"]);
                    Assert.True(volume!["emptyDir"] is not null, id + ": /tmp is not an emptyDir");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryImageIsTaggedAndProdInferenceRunsTheCudaImageOnAGpu(string name)
    {
        var overlay = overlays[name];
        foreach (var (_, pod) in overlay.Workloads())
            foreach (var container in Overlay.Containers(pod))
                Assert.Matches(@"^[^:]+:(?!latest$)[\w.-]+$", (string)container["image"]!);

        var template = overlay.Template("Deployment", "chatblazor-inference");
        var inference = Overlay.Containers(template).Single();
        var image = (string)inference["image"]!;
        var gpus = (string?)inference["resources"]!["limits"]?["nvidia.com/gpu"];
        if (name == "prod")
        {
            Assert.EndsWith("-cuda", image);
            Assert.Equal("1", gpus);
            Assert.Equal(gpus, (string?)inference["resources"]!["requests"]?["nvidia.com/gpu"]);
            Assert.NotEmpty(template["spec"]!["nodeSelector"]!.AsObject());
            Assert.Contains(template["spec"]!["tolerations"]!.AsArray(), t => (string?)t!["key"] == "nvidia.com/gpu");
        }
        else
        {
            Assert.DoesNotContain("cuda", image);
            Assert.Null(gpus);
            Assert.Null(template["spec"]!["nodeSelector"]);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryServiceBudgetAndAutoscalerSelectsPodsThatExist(string name)
    {
        var overlay = overlays[name];
        var pods = overlay.Workloads().Select(w => (Name: (string)w.Workload["metadata"]!["name"]!, w.Workload, w.Template)).ToList();

        foreach (var service in overlay.OfKind("Service"))
        {
            var selector = service["spec"]!["selector"]!.AsObject();
            var selected = pods.Where(p => Labels.Match(selector, p.Template["metadata"]!["labels"]!.AsObject())).ToList();
            Assert.True(selected.Count > 0, $"Service {service["metadata"]!["name"]} selects no pods");
            foreach (var port in service["spec"]!["ports"]!.AsArray())
                Assert.All(selected, p => Assert.Contains(Overlay.Containers(p.Template),
                    c => PortNumber(c, port!["targetPort"] ?? port["port"]!) is not null));
        }
        foreach (var budget in overlay.OfKind("PodDisruptionBudget"))
            Assert.Single(pods, p => (string?)p.Workload["kind"] == "Deployment"
                && Labels.Selects(budget["spec"]!["selector"]!.AsObject(), p.Template["metadata"]!["labels"]!.AsObject()));
        foreach (var (workload, template) in pods.Select(p => (p.Workload, p.Template)))
            if (workload["spec"]!["selector"] is JsonObject own)
                Assert.True(Labels.Selects(own, template["metadata"]!["labels"]!.AsObject()), $"{workload["metadata"]!["name"]} does not select its own pods");
        foreach (var hpa in overlay.OfKind("HorizontalPodAutoscaler"))
        {
            var target = hpa["spec"]!["scaleTargetRef"]!;
            Assert.Equal("Deployment", (string?)target["kind"]);
            var deployment = overlay.Get("Deployment", (string)target["name"]!);
            if (hpa["spec"]!["metrics"]!.AsArray().Any(m => (string?)m!["resource"]?["name"] == "cpu"))
                Assert.All(Overlay.Containers(deployment["spec"]!["template"]!.AsObject()), c => Assert.NotNull(c["resources"]!["requests"]!["cpu"]));
            Assert.True(hpa["spec"]!["minReplicas"]!.GetValue<int>() >= (name == "prod" ? 2 : 1));
            // A count in the Deployment would be reapplied over the autoscaler's on every kubectl apply.
            Assert.Null(deployment["spec"]!["replicas"]);
        }
        Assert.True(overlay.Get("HorizontalPodAutoscaler", "chatblazor-web")["spec"]!["minReplicas"]!.GetValue<int>() >= 2);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryConfigMapAndSecretAPodNeedsIsRenderedOrOptional(string name)
    {
        var overlay = overlays[name];
        bool Exists(string kind, string objectName) => overlay.OfKind(kind).Any(o => (string?)o["metadata"]!["name"] == objectName);

        foreach (var (workload, template) in overlay.Workloads())
        {
            var id = (string)workload["metadata"]!["name"]!;
            foreach (var container in Overlay.Containers(template))
            {
                foreach (var from in container["envFrom"]?.AsArray() ?? [])
                    Assert.True(Exists("ConfigMap", (string)from!["configMapRef"]!["name"]!), $"{id}: envFrom {from["configMapRef"]!["name"]}");
                foreach (var env in container["env"]?.AsArray() ?? [])
                    if (env!["valueFrom"]?["secretKeyRef"] is { } reference && reference["optional"]?.GetValue<bool>() != true)
                    {
                        var secret = overlay.OfKind("Secret").SingleOrDefault(s => (string?)s["metadata"]!["name"] == (string?)reference["name"]);
                        Assert.True(secret is not null, $"{id}: {env["name"]} reads Secret {reference["name"]}, which is not rendered");
                        Assert.True(secret["data"]?[(string)reference["key"]!] is not null, $"{id}: {env["name"]} reads key {reference["key"]}, which {reference["name"]} lacks");
                    }
            }
            foreach (var volume in template["spec"]!["volumes"]?.AsArray() ?? [])
                if (volume!["secret"] is { } secret)
                    Assert.True(Exists("Secret", (string)secret["secretName"]!), $"{id}: volume {volume["name"]}");
                else if (volume["persistentVolumeClaim"] is { } claim)
                    Assert.True(Exists("PersistentVolumeClaim", (string)claim["claimName"]!), $"{id}: volume {volume["name"]}");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void WebReachesTheInferenceServiceWithTheKeyTheInferencePodsRead(string name)
    {
        var overlay = overlays[name];
        var config = overlay.Generated("ConfigMap", "chatblazor-web")["data"]!;
        var webTemplate = overlay.Template("Deployment", "chatblazor-web");
        var web = Overlay.Containers(webTemplate).Single();
        var template = overlay.Template("Deployment", "chatblazor-inference");
        var inference = Overlay.Containers(template).Single();
        var args = inference["args"]!.AsArray().Select(a => (string)a!).ToList();
        string Arg(string flag) => args[args.IndexOf(flag) + 1];

        Assert.Equal("All", (string?)config["Replies__Role"]);
        Assert.Equal("false", (string?)config["Inference__InProcess"]);
        Assert.Equal("serve", args[0]);

        // The host URL names the inference Service and the port that reaches the container's --urls port.
        var url = new Uri((string)config["Inference__Hosts__0__Url"]!);
        var service = overlay.Get("Service", url.Host);
        var servicePort = service["spec"]!["ports"]!.AsArray().Single(p => p!["port"]!.GetValue<int>() == url.Port);
        Assert.True(Labels.Match(service["spec"]!["selector"]!.AsObject(), template["metadata"]!["labels"]!.AsObject()));
        Assert.Equal(new Uri(Arg("--urls")).Port, PortNumber(inference, servicePort!["targetPort"]!));

        // The model the web asks for is one the host serves.
        var served = args.Select((a, i) => (a, i)).Where(x => x.a == "--model").Select(x => args[x.i + 1].Split('=')[0]);
        Assert.Contains((string)config["Inference__Hosts__0__Models__0"]!, served);

        // Probes and metrics on the ops port, which is not the API's.
        var ops = new Uri(Arg("--ops-urls")).Port;
        Assert.NotEqual(new Uri(Arg("--urls")).Port, ops);
        Assert.All(new[] { "startupProbe", "livenessProbe", "readinessProbe" }, probe =>
        {
            Assert.Equal("/health", (string?)inference[probe]!["httpGet"]!["path"]);
            Assert.Equal(ops, PortNumber(inference, inference[probe]!["httpGet"]!["port"]!));
        });
        Assert.Equal(ops.ToString(), (string?)template["metadata"]!["annotations"]!["prometheus.io/port"]);

        // The key file is mounted from the very Secret the web pods send as their bearer token.
        var keyFile = Arg("--api-key-file");
        var mount = inference["volumeMounts"]!.AsArray().Single(m => keyFile.StartsWith((string)m!["mountPath"]! + "/", StringComparison.Ordinal))!;
        var volume = template["spec"]!["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        var webKey = web["env"]!.AsArray().Single(e => (string?)e!["name"] == "Inference__Hosts__0__ApiKey")!["valueFrom"]!["secretKeyRef"]!;
        Assert.Equal((string?)webKey["name"], (string?)volume["secret"]!["secretName"]);
        Assert.Equal(Path.GetFileName(keyFile), (string?)webKey["key"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void TheMigrationJobRunsMigrateWithTheWebImageAndItsConfiguration(string name)
    {
        var overlay = overlays[name];
        var job = overlay.Get("Job", "chatblazor-migrate");
        var migrate = Overlay.Containers(overlay.Template("Job", "chatblazor-migrate")).Single();
        var web = Overlay.Containers(overlay.Template("Deployment", "chatblazor-web")).Single();

        Assert.Equal(["migrate"], migrate["args"]!.AsArray().Select(a => (string?)a));
        Assert.Equal((string?)web["image"], (string?)migrate["image"]);
        Assert.Equal(web["envFrom"]!.ToJsonString(), migrate["envFrom"]!.ToJsonString());
        var webEnv = web["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => e!.ToJsonString());
        foreach (var setting in new[] { "ConnectionStrings__Postgres", "Redis__Configuration", "Logging__UserIdKey" })
            Assert.Equal(webEnv[setting], migrate["env"]!.AsArray().Single(e => (string?)e!["name"] == setting)!.ToJsonString());
        Assert.Equal("Never", (string?)job["spec"]!["template"]!["spec"]!["restartPolicy"]);
        Assert.NotNull(job["spec"]!["backoffLimit"]);

        // The upgrade's first step (README, "Upgrade") applies the objects labelled migrate or settings: the Job
        // and everything it reads, and no workload that would start the new version early.
        var firstStep = overlay.Objects.Where(o => (string?)o["metadata"]!["labels"]?["app.kubernetes.io/component"] is "migrate" or "settings").ToList();
        Assert.Equal(["Job"], firstStep.Select(o => (string?)o["kind"]).Where(k => k is not ("ConfigMap" or "Secret")).Distinct());
        var names = firstStep.Select(o => (string?)o["metadata"]!["name"]).ToHashSet();
        Assert.All(migrate["envFrom"]!.AsArray(), f => Assert.Contains((string?)f!["configMapRef"]!["name"], names));
        Assert.All(migrate["env"]!.AsArray().Select(e => e!["valueFrom"]?["secretKeyRef"]).OfType<JsonNode>().Where(r => r["optional"]?.GetValue<bool>() != true),
            reference => Assert.Contains((string?)reference["name"], names));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void TheIngressKeepsCircuitsOnTheirPodAndLongStreamsOpen(string name)
    {
        var ingress = overlays[name].Get("Ingress", "chatblazor-web");
        var annotations = ingress["metadata"]!["annotations"]!;
        int Seconds(string key) => int.Parse((string)annotations["nginx.ingress.kubernetes.io/" + key]!);

        Assert.Equal("cookie", (string?)annotations["nginx.ingress.kubernetes.io/affinity"]);
        Assert.Equal("persistent", (string?)annotations["nginx.ingress.kubernetes.io/affinity-mode"]);
        Assert.Equal("true", (string?)annotations["nginx.ingress.kubernetes.io/session-cookie-secure"]);
        Assert.True(Seconds("proxy-read-timeout") >= 3600);
        Assert.True(Seconds("proxy-send-timeout") >= 3600);
        Assert.Equal("off", (string?)annotations["nginx.ingress.kubernetes.io/proxy-buffering"]);
        Assert.Matches("^[0-9]+m$", (string?)annotations["nginx.ingress.kubernetes.io/proxy-body-size"]);
        Assert.Equal("nginx", (string?)ingress["spec"]!["ingressClassName"]);

        // TLS for exactly the host that is routed, and that host is the app's public URL.
        var host = (string)ingress["spec"]!["rules"]![0]!["host"]!;
        Assert.Equal([host], ingress["spec"]!["tls"]![0]!["hosts"]!.AsArray().Select(h => (string?)h));
        Assert.NotNull(ingress["spec"]!["tls"]![0]!["secretName"]);
        var publicUrl = (string)overlays[name].Generated("ConfigMap", "chatblazor-web")["data"]!["App__PublicUrl"]!;
        Assert.Equal("https://" + host, publicUrl);
        var backend = ingress["spec"]!["rules"]![0]!["http"]!["paths"]![0]!["backend"]!["service"]!;
        var service = overlays[name].Get("Service", (string)backend["name"]!);
        Assert.Contains(service["spec"]!["ports"]!.AsArray(), p => (string?)p!["name"] == (string?)backend["port"]!["name"]);
    }

    [Fact]
    public void TheInferenceAutoscalerScalesOnTheEngineQueueGaugeThatTheReadmeAdapterRuleServes()
    {
        var hpa = overlays["prod"].Get("HorizontalPodAutoscaler", "chatblazor-inference");
        var metric = hpa["spec"]!["metrics"]!.AsArray().Single()!;
        var name = (string)metric["pods"]!["metric"]!["name"]!;

        Assert.Equal("Pods", (string?)metric["type"]);
        // The engine declares it (its Prometheus name is the instrument's, a gauge gets no suffix).
        var engine = File.ReadAllText(Repository.PathOf("ChatBlazor.Inference/Serving/EngineMetrics.cs"));
        Assert.Matches($"CreateObservableGauge\\(\"{Regex.Escape(name)}\"", engine);
        // The README's adapter rule exposes exactly that name.
        var readme = File.ReadAllText(Repository.PathOf("deploy/k8s/README.md"));
        Assert.Contains($"seriesQuery: '{name}{{namespace!=\"\",pod!=\"\"}}'", readme);
        Assert.Contains($"as: \"{name}\"", readme);
        // Dev has no adapter: no autoscaler that could only report a missing metric.
        Assert.DoesNotContain(overlays["dev"].OfKind("HorizontalPodAutoscaler"), h => (string?)h["metadata"]!["name"] == "chatblazor-inference");
    }

    /// <summary>A container port given by number or by name, as a number; null when the container has no such port.</summary>
    private static int? PortNumber(JsonObject container, JsonNode port) =>
        port.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? container["ports"]?.AsArray().Any(p => p!["containerPort"]!.GetValue<int>() == port.GetValue<int>()) == true ? port.GetValue<int>() : null
            : container["ports"]?.AsArray().FirstOrDefault(p => (string?)p!["name"] == (string)port!)?["containerPort"]?.GetValue<int>();
}
