package io.strata.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * What the schema cannot see: that the rendered objects agree with each other and with the server. Probes
 * and ports are the application's, every setting passed to a node is one it reads, every Service and
 * disruption budget finds pods, the autoscaler finds its Deployment, and the image is the one the build makes.
 */
class ManifestReferencesTest {
    private static final String HEALTH_LIVE = "/q/health/live";
    private static final String HEALTH_READY = "/q/health/ready";
    /**
     * Environment variables a node reads besides its settings (the pod IP it advertises), and what the
     * manifests define only to build a setting from ($(POD_NAMESPACE) in a fetch node's address).
     */
    private static final Set<String> NODE_INPUTS = Set.of("POD_IP", "POD_NAMESPACE");
    /** quarkus.shutdown.timeout: the longest a node drains after SIGTERM. */
    private static final int SHUTDOWN_SECONDS = 30;

    @Test
    void everyOverlayHoldsTheWholeDeployment() throws Exception {
        for (Path overlay : Overlays.all()) {
            assertThat(kinds(Overlays.render(overlay))).as(overlay.toString()).contains("Deployment", "StatefulSet",
                    "CronJob", "Service", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                    "ServiceAccount");
        }
    }

    @Test
    void strataNodesProbeTheApplicationsHealthPathsOnItsPorts() throws Exception {
        int http = Integer.parseInt(ServerSettings.application("quarkus.http.port"));
        int grpc = Integer.parseInt(ServerSettings.application("quarkus.grpc.server.port"));
        int internal = Integer.parseInt(ServerSettings.strataDefault("strata.internal.port"));
        int kafka = Integer.parseInt(ServerSettings.strataDefault("strata.kafka.port"));
        for (Path overlay : Overlays.all()) {
            for (Workload w : workloads(Overlays.render(overlay))) {
                if (w.kind().equals("CronJob")) {
                    continue; // a run-once pass: no probes, it exits when done
                }
                for (JsonNode c : w.strataContainers()) {
                    String where = overlay.getFileName() + " " + w.name();
                    Map<String, Integer> ports = ports(c);
                    assertThat(ports).as(where + " ports").containsEntry("http", http).containsEntry("grpc", grpc)
                            .containsEntry("internal", internal);
                    if (w.name().contains("ingest") || w.name().contains("fetch")) {
                        assertThat(ports).as(where + " serves Kafka clients").containsEntry("kafka", kafka);
                    }
                    assertProbe(where + " readiness", c.path("readinessProbe"), HEALTH_READY, ports, http);
                    assertProbe(where + " liveness", c.path("livenessProbe"), HEALTH_LIVE, ports, http);
                    int preStop = c.path("lifecycle").path("preStop").path("sleep").path("seconds").asInt(-1);
                    assertThat(preStop).as(where + " preStop pause (endpoints drop the pod first)").isPositive();
                    assertThat(ServerSettings.application("quarkus.shutdown.timeout"))
                            .isEqualTo(SHUTDOWN_SECONDS + "s");
                    JsonNode grace = w.podSpec().path("terminationGracePeriodSeconds");
                    assertThat(grace.isInt() && grace.asInt() > preStop + SHUTDOWN_SECONDS)
                            .as(where + ": the grace period (" + grace + ") covers the preStop pause and a drain")
                            .isTrue();
                }
            }
        }
    }

    @Test
    void everySettingPassedToANodeIsOneItReads() throws Exception {
        Set<String> real = ServerSettings.environmentNames();
        for (Path overlay : Overlays.all()) {
            List<JsonNode> objects = Overlays.render(overlay);
            Map<String, JsonNode> configMaps = byName(objects, "ConfigMap");
            Map<String, JsonNode> secrets = byName(objects, "Secret");
            for (Workload w : workloads(objects)) {
                for (JsonNode c : w.strataContainers()) {
                    String where = overlay.getFileName() + " " + w.name();
                    Set<String> passed = new HashSet<>();
                    c.path("env").forEach(e -> passed.add(e.path("name").asText()));
                    for (JsonNode from : c.path("envFrom")) {
                        if (from.has("configMapRef")) {
                            String name = from.path("configMapRef").path("name").asText();
                            assertThat(configMaps).as(where + " reads ConfigMap " + name).containsKey(name);
                            configMaps.get(name).path("data").fieldNames().forEachRemaining(passed::add);
                        }
                        if (from.has("secretRef")) {
                            String name = from.path("secretRef").path("name").asText();
                            JsonNode secret = secrets.get(name);
                            assertThat(secret != null || from.path("secretRef").path("optional").asBoolean())
                                    .as(where + " reads Secret " + name + ", which is rendered or optional").isTrue();
                            if (secret != null) {
                                secret.path("data").fieldNames().forEachRemaining(passed::add);
                                secret.path("stringData").fieldNames().forEachRemaining(passed::add);
                            }
                        }
                    }
                    assertThat(passed).as(where + ": variables that name no setting (a typo is ignored silently)")
                            .allMatch(v -> real.contains(v) || NODE_INPUTS.contains(v));
                    assertThat(passed).as(where).contains("STRATA_ROLES", "STRATA_METADATA_ETCD_ENDPOINTS",
                            "STRATA_OBJECT_STORE_S3_BUCKET", "POD_IP");
                    assertDirectoriesAreMounted(where, c, w, configMaps);
                    assertVariableReferencesAreDefinedBefore(where, c);
                }
            }
        }
    }

    @Test
    void everyServiceAndDisruptionBudgetSelectsPodsAndTheAutoscalerItsDeployment() throws Exception {
        for (Path overlay : Overlays.all()) {
            List<JsonNode> objects = Overlays.render(overlay);
            List<Workload> workloads = workloads(objects);
            for (JsonNode service : ofKind(objects, "Service")) {
                String where = overlay.getFileName() + " Service " + service.path("metadata").path("name").asText();
                Map<String, String> selector = strings(service.path("spec").path("selector"));
                List<Workload> selected = workloads.stream().filter(w -> w.labels().entrySet()
                        .containsAll(selector.entrySet())).toList();
                assertThat(selected).as(where + " selects pods").isNotEmpty();
                for (JsonNode port : service.path("spec").path("ports")) {
                    JsonNode target = port.path("targetPort");
                    if (target.isTextual()) {
                        assertThat(selected).as(where + " port " + target.asText() + " on every selected pod")
                                .allMatch(w -> w.containerPortNames().contains(target.asText()));
                    }
                }
            }
            for (JsonNode pdb : ofKind(objects, "PodDisruptionBudget")) {
                Map<String, String> selector = strings(pdb.path("spec").path("selector").path("matchLabels"));
                assertThat(workloads).as(overlay.getFileName() + " PodDisruptionBudget "
                        + pdb.path("metadata").path("name").asText()).anyMatch(w -> w.labels().entrySet()
                        .containsAll(selector.entrySet()));
            }
            for (JsonNode hpa : ofKind(objects, "HorizontalPodAutoscaler")) {
                JsonNode target = hpa.path("spec").path("scaleTargetRef");
                assertThat(byName(objects, target.path("kind").asText()))
                        .as(overlay.getFileName() + " autoscaler target").containsKey(target.path("name").asText());
            }
        }
    }

    @Test
    void theClientServiceExposesTheClientPortsAndNotTheInternalOne() throws Exception {
        for (Path overlay : Overlays.all()) {
            JsonNode client = byName(Overlays.render(overlay), "Service").get("strata");
            assertThat(client).as(overlay.getFileName() + ": Service strata").isNotNull();
            List<String> targets = new ArrayList<>();
            client.path("spec").path("ports").forEach(p -> targets.add(p.path("targetPort").asText()));
            assertThat(targets).containsExactly("grpc", "kafka");
        }
    }

    @Test
    void strataPodsRunTheImageTheBuildProduces() throws Exception {
        JibImage built = JibImage.of(Overlays.HOME.resolve("server/pom.xml"));
        String repository = built.repository();
        String tag = built.tag();
        for (Path overlay : Overlays.all()) {
            List<Workload> strata = workloads(Overlays.render(overlay)).stream()
                    .filter(w -> !w.strataContainers().isEmpty()).toList();
            assertThat(strata).extracting(Workload::name).as(overlay.getFileName().toString())
                    .contains("strata-ingest", "strata-fetch", "strata-compaction");
            for (Workload w : strata) {
                for (JsonNode c : w.strataContainers()) {
                    String image = c.path("image").asText();
                    assertThat(image).as(overlay.getFileName() + " " + w.name())
                            .matches("([^/]+/)*" + java.util.regex.Pattern.quote(repository) + ":"
                                    + java.util.regex.Pattern.quote(tag));
                }
            }
        }
    }

    /**
     * A compaction pod's heap (the image's MaxRAMPercentage of its memory limit) holds a default segment whole: a
     * segment is built in memory, at most an eighth of the heap, and a default cut to fit says nothing.
     */
    @Test
    void theCompactionPodsHeapBuildsTheDefaultSegmentsWhole() throws Exception {
        java.util.regex.Pattern share = java.util.regex.Pattern.compile("MaxRAMPercentage=(\\d+)");
        List<Integer> percents = new ArrayList<>();
        for (Path image : List.of(Path.of("server/src/main/docker/Dockerfile"), Path.of("server/pom.xml"))) {
            java.util.regex.Matcher m = share.matcher(java.nio.file.Files.readString(Overlays.HOME.resolve(image)));
            assertThat(m.find()).as(image + " sizes the heap by the container's memory").isTrue();
            percents.add(Integer.parseInt(m.group(1)));
        }
        assertThat(percents).as("the Dockerfile's and Jib's heap share").containsOnly(percents.get(0));
        long segment = io.strata.server.config.StrataConfig.Compaction.DEFAULT_SEGMENT_BYTES;
        for (Path overlay : Overlays.all()) {
            List<Workload> compaction = workloads(Overlays.render(overlay)).stream()
                    .filter(w -> w.name().equals("strata-compaction")).toList();
            assertThat(compaction).as(overlay.getFileName().toString()).isNotEmpty();
            for (Workload w : compaction) {
                for (JsonNode c : w.strataContainers()) {
                    long limit = bytes(c.path("resources").path("limits").path("memory").asText());
                    assertThat(limit * percents.get(0) / 100 / 8).as("%s %s: an eighth of the heap of a %d-byte pod",
                            overlay.getFileName(), w.name(), limit).isGreaterThanOrEqualTo(segment);
                }
            }
        }
    }

    /** A Kubernetes memory quantity in the binary units the manifests use (Mi, Gi). */
    private static long bytes(String quantity) {
        assertThat(quantity).as("a memory limit").matches("\\d+(Mi|Gi)");
        long n = Long.parseLong(quantity.substring(0, quantity.length() - 2));
        return quantity.endsWith("Gi") ? n << 30 : n << 20;
    }

    @Test
    void theLocalOverlayBringsEtcdAndMinioAndTheirAddressesAreTheNodes() throws Exception {
        List<JsonNode> objects = Overlays.render(Overlays.K8S.resolve("overlays/local"));
        List<String> images = workloads(objects).stream().flatMap(w -> w.containers().stream())
                .map(c -> c.path("image").asText()).toList();
        assertThat(images).anyMatch(i -> i.contains("/etcd:")).anyMatch(i -> i.contains("/minio:"));
        JsonNode data = byName(objects, "ConfigMap").get("strata-config").path("data");
        Set<String> services = byName(objects, "Service").keySet();
        assertThat(host(data.path("STRATA_METADATA_ETCD_ENDPOINTS").asText())).isIn(services);
        assertThat(host(data.path("STRATA_OBJECT_STORE_S3_ENDPOINT").asText())).isIn(services);
    }

    @Test
    void theAwsOverlayUsesAnIamRoleAndNoStaticKeys() throws Exception {
        List<JsonNode> objects = Overlays.render(Overlays.K8S.resolve("overlays/aws"));
        JsonNode account = byName(objects, "ServiceAccount").get("strata");
        assertThat(account.path("metadata").path("annotations").path("eks.amazonaws.com/role-arn").asText())
                .startsWith("arn:aws:iam::");
        for (Workload w : workloads(objects)) {
            assertThat(w.podSpec().path("serviceAccountName").asText()).as(w.name()).isEqualTo("strata");
        }
        assertThat(ofKind(objects, "Secret")).isEmpty();
        JsonNode data = byName(objects, "ConfigMap").get("strata-config").path("data");
        assertThat(data.has("STRATA_OBJECT_STORE_S3_ACCESS_KEY") || data.has("STRATA_OBJECT_STORE_S3_ENDPOINT"))
                .as("S3 itself, with the role's credentials").isFalse();
    }

    /** $(NAME) in a value expands only to a variable defined earlier in the list: else it stays as text. */
    private static void assertVariableReferencesAreDefinedBefore(String where, JsonNode container) {
        Set<String> defined = new HashSet<>();
        for (JsonNode e : container.path("env")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\(([A-Za-z0-9_]+)\\)")
                    .matcher(e.path("value").asText());
            while (m.find()) {
                assertThat(defined).as(where + " " + e.path("name").asText() + " uses $(" + m.group(1) + ")")
                        .contains(m.group(1));
            }
            defined.add(e.path("name").asText());
        }
    }

    @Test
    void theAutoscaledDeploymentLeavesItsReplicasToTheAutoscaler() throws Exception {
        for (Path overlay : Overlays.all()) {
            List<JsonNode> objects = Overlays.render(overlay);
            for (JsonNode hpa : ofKind(objects, "HorizontalPodAutoscaler")) {
                JsonNode target = byName(objects, "Deployment").get(hpa.path("spec").path("scaleTargetRef")
                        .path("name").asText());
                assertThat(target.path("spec").has("replicas")).as(overlay.getFileName() + ": an apply would "
                        + "reset what the autoscaler chose").isFalse();
            }
        }
    }

    @Test
    void fetchNodesAdvertiseTheirStableNamesWhichResolveBeforeTheyAreReady() throws Exception {
        for (Path overlay : Overlays.all()) {
            List<JsonNode> objects = Overlays.render(overlay);
            JsonNode fetch = byName(objects, "StatefulSet").get("strata-fetch");
            String governing = fetch.path("spec").path("serviceName").asText();
            JsonNode headless = byName(objects, "Service").get(governing);
            assertThat(headless.path("spec").path("clusterIP").asText()).isEqualTo("None");
            assertThat(headless.path("spec").path("publishNotReadyAddresses").asBoolean()).isTrue();
            JsonNode container = fetch.path("spec").path("template").path("spec").path("containers").get(0);
            String advertised = "";
            for (JsonNode e : container.path("env")) {
                if (e.path("name").asText().equals("STRATA_ADVERTISED_ADDRESS")) {
                    advertised = e.path("value").asText();
                }
            }
            assertThat(advertised).as(overlay.getFileName().toString())
                    .isEqualTo("$(STRATA_NODE_ID)." + governing + ".$(POD_NAMESPACE).svc:"
                            + ServerSettings.application("quarkus.grpc.server.port"));
        }
    }

    @Test
    void theSecureOverlaysServeTlsFromCertificatesTheirIssuersMakeRequireAuthAndCloseTheInternalPort()
            throws Exception {
        for (String name : List.of("local-secure", "aws-secure")) {
            List<JsonNode> objects = Overlays.render(Overlays.K8S.resolve("overlays").resolve(name));
            Map<String, JsonNode> certificates = byName(objects, "Certificate");
            Map<String, JsonNode> issuers = byName(objects, "Issuer");
            Map<String, JsonNode> bySecret = new HashMap<>();
            certificates.values().forEach(c -> bySecret.put(c.path("spec").path("secretName").asText(), c));
            for (JsonNode c : certificates.values()) {
                assertThat(issuers).as(name + ": the issuer of " + c.path("metadata").path("name").asText())
                        .containsKey(c.path("spec").path("issuerRef").path("name").asText());
            }
            for (JsonNode i : issuers.values()) {
                if (i.path("spec").has("ca")) {
                    JsonNode ca = bySecret.get(i.path("spec").path("ca").path("secretName").asText());
                    assertThat(ca).as(name + ": the CA of issuer " + i.path("metadata").path("name").asText()
                            + " is a certificate made here").isNotNull();
                    assertThat(ca.path("spec").path("isCA").asBoolean()).isTrue();
                }
            }
            Map<String, String> config = new HashMap<>();
            byName(objects, "ConfigMap").values().forEach(m -> config.putAll(strings(m.path("data"))));
            assertThat(config).containsEntry("STRATA_AUTH_MODE", "required").containsKey("STRATA_AUTH_SUPER_USERS");
            // The node certificate names what nodes dial each other by, and comes from a CA of its own.
            JsonNode internal = certificates.values().stream().filter(c -> c.path("spec").path("dnsNames").toString()
                    .contains(io.strata.server.net.NodeTls.INTERNAL_NAME)).findFirst().orElseThrow();
            JsonNode client = bySecret.get(secretOf(config, "STRATA_TLS_CERTIFICATE", objects));
            assertThat(client).as(name + ": the client ports' certificate").isNotNull();
            assertThat(internal.path("spec").path("issuerRef").path("name").asText())
                    .isNotEqualTo(client.path("spec").path("issuerRef").path("name").asText());
            for (JsonNode c : certificates.values()) {
                if (!c.path("spec").path("isCA").asBoolean()) {
                    assertThat(c.path("spec").path("privateKey").path("encoding").asText()).as(name + " PKCS#8 keys")
                            .isEqualTo("PKCS8");
                }
            }
            for (Workload w : workloads(objects)) {
                Map<String, String> mountedSecrets = new HashMap<>();
                Map<String, String> volumeSecrets = new HashMap<>();
                w.podSpec().path("volumes").forEach(v -> {
                    if (v.has("secret")) {
                        volumeSecrets.put(v.path("name").asText(), v.path("secret").path("secretName").asText());
                    }
                });
                for (JsonNode c : w.strataContainers()) {
                    c.path("volumeMounts").forEach(m -> {
                        if (volumeSecrets.containsKey(m.path("name").asText())) {
                            mountedSecrets.put(m.path("mountPath").asText(), volumeSecrets.get(m.path("name").asText()));
                        }
                    });
                    for (String file : List.of("STRATA_TLS_CERTIFICATE", "STRATA_TLS_KEY", "STRATA_TLS_INTERNAL_CERTIFICATE",
                            "STRATA_TLS_INTERNAL_KEY", "STRATA_TLS_INTERNAL_CA")) {
                        String path = config.get(file);
                        assertThat(path).as(name + " " + w.name() + " " + file).isNotNull();
                        String dir = path.substring(0, path.lastIndexOf('/'));
                        assertThat(mountedSecrets).as(name + " " + w.name() + ": " + file + " is in a mounted Secret")
                                .containsKey(dir);
                        assertThat(bySecret).as(name + " " + w.name() + ": a certificate writes " + file)
                                .containsKey(mountedSecrets.get(dir));
                        assertThat(path.substring(path.lastIndexOf('/') + 1)).isIn("tls.crt", "tls.key", "ca.crt");
                    }
                }
            }
            // Only Strata pods reach the node-to-node port; clients reach the client ports.
            JsonNode policy = byName(objects, "NetworkPolicy").values().stream().filter(p -> p.path("spec")
                    .path("podSelector").path("matchLabels").path("app.kubernetes.io/name").asText().equals("strata"))
                    .findFirst().orElseThrow();
            boolean internalOpen = false;
            boolean clientsOpen = false;
            for (JsonNode rule : policy.path("spec").path("ingress")) {
                boolean fromStrataOnly = rule.has("from") && rule.path("from").size() > 0;
                for (JsonNode from : rule.path("from")) {
                    fromStrataOnly &= from.path("podSelector").path("matchLabels").path("app.kubernetes.io/name")
                            .asText().equals("strata") && !from.has("namespaceSelector") && !from.has("ipBlock");
                }
                for (JsonNode port : rule.path("ports")) {
                    if (port.path("port").asInt() == 9402 && !fromStrataOnly) {
                        internalOpen = true;
                    }
                    if (port.path("port").asInt() == 9400 && !rule.has("from")) {
                        clientsOpen = true;
                    }
                }
            }
            assertThat(internalOpen).as(name + ": the node-to-node port is open to others").isFalse();
            assertThat(clientsOpen).as(name + ": clients reach the gRPC port").isTrue();
        }
    }

    /** The Secret of the volume mounted where {@code setting} points, as a Strata container mounts it. */
    private static String secretOf(Map<String, String> config, String setting, List<JsonNode> objects) {
        String path = config.get(setting);
        String dir = path.substring(0, path.lastIndexOf('/'));
        for (Workload w : workloads(objects)) {
            for (JsonNode c : w.strataContainers()) {
                for (JsonNode m : c.path("volumeMounts")) {
                    if (m.path("mountPath").asText().equals(dir)) {
                        for (JsonNode v : w.podSpec().path("volumes")) {
                            if (v.path("name").asText().equals(m.path("name").asText())) {
                                return v.path("secret").path("secretName").asText();
                            }
                        }
                    }
                }
            }
        }
        return null;
    }

    private static void assertProbe(String where, JsonNode probe, String path, Map<String, Integer> ports, int http) {
        JsonNode get = probe.path("httpGet");
        assertThat(get.path("path").asText()).as(where + " path").isEqualTo(path);
        JsonNode port = get.path("port");
        int number = port.isInt() ? port.asInt() : ports.getOrDefault(port.asText(), -1);
        assertThat(number).as(where + " port").isEqualTo(http);
    }

    /** The directories the node is told to use are volumes, not the container's read-only layers. */
    private static void assertDirectoriesAreMounted(String where, JsonNode c, Workload w,
                                                    Map<String, JsonNode> configMaps) {
        Map<String, String> values = new HashMap<>();
        configMaps.values().forEach(m -> values.putAll(strings(m.path("data"))));
        c.path("env").forEach(e -> {
            if (e.has("value")) {
                values.put(e.path("name").asText(), e.path("value").asText());
            }
        });
        Set<String> mounts = new HashSet<>();
        Set<String> volumes = new HashSet<>(w.volumeNames());
        for (JsonNode m : c.path("volumeMounts")) {
            assertThat(volumes).as(where + " mount " + m.path("name").asText()).contains(m.path("name").asText());
            mounts.add(m.path("mountPath").asText());
        }
        for (String dir : List.of("STRATA_DATA_DIR", "STRATA_FETCH_DISK_CACHE_DIR")) {
            if (values.containsKey(dir)) {
                String value = values.get(dir);
                assertThat(mounts).as(where + " " + dir + " is a volume or a folder of one")
                        .anyMatch(m -> value.equals(m) || value.startsWith(m + "/"));
            }
        }
    }

    private static String host(String url) {
        String first = url.split(",")[0];
        return java.net.URI.create(first).getHost();
    }

    private static Map<String, Integer> ports(JsonNode container) {
        Map<String, Integer> ports = new HashMap<>();
        container.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
        return ports;
    }

    private static Set<String> kinds(List<JsonNode> objects) {
        Set<String> kinds = new HashSet<>();
        objects.forEach(o -> kinds.add(o.path("kind").asText()));
        return kinds;
    }

    private static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    private static Map<String, JsonNode> byName(List<JsonNode> objects, String kind) {
        Map<String, JsonNode> named = new HashMap<>();
        ofKind(objects, kind).forEach(o -> named.put(o.path("metadata").path("name").asText(), o));
        return named;
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> map = new HashMap<>();
        object.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    /** A Deployment, StatefulSet or CronJob: its pod template. */
    private record Workload(String kind, String name, JsonNode template, List<String> claimNames) {
        JsonNode podSpec() {
            return template.path("spec");
        }

        Map<String, String> labels() {
            return strings(template.path("metadata").path("labels"));
        }

        List<JsonNode> containers() {
            return StreamSupport.stream(podSpec().path("containers").spliterator(), false).toList();
        }

        List<JsonNode> strataContainers() {
            return containers().stream().filter(c -> c.path("image").asText().contains("strata-server")).toList();
        }

        Set<String> containerPortNames() {
            Set<String> names = new HashSet<>();
            containers().forEach(c -> c.path("ports").forEach(p -> names.add(p.path("name").asText())));
            return names;
        }

        List<String> volumeNames() {
            List<String> names = new ArrayList<>(claimNames);
            podSpec().path("volumes").forEach(v -> names.add(v.path("name").asText()));
            return names;
        }
    }

    private static List<Workload> workloads(List<JsonNode> objects) {
        List<Workload> workloads = new ArrayList<>();
        for (JsonNode o : objects) {
            String kind = o.path("kind").asText();
            String name = o.path("metadata").path("name").asText();
            switch (kind) {
                case "Deployment", "StatefulSet" -> {
                    List<String> claims = new ArrayList<>();
                    o.path("spec").path("volumeClaimTemplates").forEach(t ->
                            claims.add(t.path("metadata").path("name").asText()));
                    workloads.add(new Workload(kind, name, o.path("spec").path("template"), claims));
                }
                case "CronJob" -> workloads.add(new Workload(kind, name,
                        o.path("spec").path("jobTemplate").path("spec").path("template"), List.of()));
                default -> { }
            }
        }
        return workloads;
    }
}
