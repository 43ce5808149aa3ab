package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.Producer;
import io.strata.client.RecordMetadata;
import io.strata.client.StrataClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console end to end, against a real etcd and a real S3 server: a node serves it, and headless Chromium
 * (Debian's, driven by puppeteer-core: src/test/console/console-check.mjs) walks every page as a person would. Each
 * page loads without errors and shows what this test made: a topic's records, one found by offset and one by key, a
 * group falling behind with its lag growing on its chart; an admin action needs its confirmation. Screenshots of
 * every page are left in target/console-screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class ConsoleTest {
    @TempDir
    static Path work;
    private StrataCluster cluster;
    private StrataProcess node;
    private StrataClient client;

    @BeforeAll
    void start() {
        cluster = new StrataCluster(work);
        // Sampled every second, so the lag chart has points within the test.
        node = cluster.start("node-1", "ingest,fetch,compaction", Map.of("strata.console.history-interval", "1s",
                "strata.groups.lag-interval", "1s", "strata.compaction.interval", "2s"));
        client = StrataClient.builder().server(node.address()).deadline(Duration.ofSeconds(30)).build();
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void aPersonSeesTheTopicItsRecordsAndAGroupFallingBehindAndMustConfirmAnAdminAction() throws Exception {
        assertThat(CliRun.strata(node.address(), "", "topics", "create", "orders", "--partitions", "3").exitCode())
                .isZero();
        Producer producer = client.producer();
        Map<String, RecordMetadata> sent = new HashMap<>();
        send(producer, 0, 60, sent);
        // A group reads half and commits, then stops: behind by what it left and by all that comes after.
        try (Consumer consumer = client.consumer("orders", ConsumerConfig.DEFAULT)) {
            consumer.subscribe("billing");
            int read = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read < 30 && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofSeconds(1)).size();
            }
            consumer.commitSync();
            assertThat(read).isGreaterThanOrEqualTo(30);
        }
        // More records, in steps the node samples apart: the group's lag grows on its chart.
        for (int step = 0; step < 3; step++) {
            Thread.sleep(2_500);
            send(producer, 60 + step * 10, 10, sent);
        }
        Thread.sleep(2_500);

        RecordMetadata keyed = sent.get("key-7");
        RecordMetadata first = sent.values().stream().filter(m -> m.partition() == 1 && m.offset() == 0)
                .findFirst().orElseThrow();
        String firstKey = sent.entrySet().stream().filter(e -> e.getValue() == first).findFirst().orElseThrow().getKey();
        Path screenshots = Path.of("target/console-screenshots").toAbsolutePath();
        Map<String, String> env = new HashMap<>(Map.of(
                "CONSOLE_URL", "http://" + node.httpAddress() + "/console/",
                "TOPIC", "orders", "GROUP", "billing",
                "KEY", "key-7", "KEY_PARTITION", Integer.toString(keyed.partition()), "KEY_VALUE", "order 7"));
        env.putAll(Map.of("OFFSET_PARTITION", "1", "OFFSET", "0", "OFFSET_VALUE", "order " + firstKey.substring(4),
                "RECORDS", "90", "NODE_ID", "node-1", "SCREENSHOTS", screenshots.toString()));
        ConsoleWalk.Outcome walk = ConsoleWalk.run(env);
        assertThat(walk.exitCode()).as("the console walk (%s); node log:%n%s", walk.output(), node.logTail(40))
                .isZero();
        assertThat(walk.output()).contains("\"failures\":[]");
        try (var shots = Files.list(screenshots)) {
            assertThat(shots.filter(p -> p.toString().endsWith(".png")).count()).isGreaterThanOrEqualTo(10);
        }
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void theJsonDoorAnswersAsTheGrpcServicesDoAndRefusesOtherSites() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        String api = "http://" + node.httpAddress() + "/console/api/";
        HttpResponse<String> missing = post(http, api + "strata.v1.AdminService/DescribeTopic", "{\"name\":\"nope\"}",
                Map.of());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"code\":\"not_found\"").contains("unknown topic");
        HttpResponse<String> bad = post(http, api + "strata.v1.AdminService/CreateTopic", "{\"name\":\"x\",\"partitons\":3}",
                Map.of());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("invalid_argument").contains("partitons");
        HttpResponse<String> stream = post(http, api + "strata.v1.FetchService/Subscribe", "{}", Map.of());
        assertThat(stream.statusCode()).isEqualTo(404);
        // A page on another site may not call the door, nor a form post without a JSON content type.
        HttpResponse<String> foreign = post(http, api + "strata.v1.AdminService/CreateTopic", "{\"name\":\"evil\"}",
                Map.of("Origin", "http://evil.example"));
        assertThat(foreign.statusCode()).isEqualTo(403);
        HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create(api + "strata.v1.AdminService/CreateTopic"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"evil\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(client.admin().listTopics()).extracting(t -> t.name()).doesNotContain("evil", "x");
        // The record browser's page is bounded by the node (strata.console.max-fetch-bytes, 1 MiB), whatever the
        // page asks for: 4 MiB of records come back a slice at a time.
        client.admin().createTopic("big", 1);
        Producer producer = client.producer();
        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>();
        byte[] value = new byte[100 * 1024];
        java.util.Arrays.fill(value, (byte) 'v');
        for (int i = 0; i < 40; i++) {
            acks.add(producer.send("big", 0, null, value));
        }
        for (CompletableFuture<RecordMetadata> ack : acks) {
            ack.get(30, TimeUnit.SECONDS);
        }
        HttpResponse<String> page = post(http, api + "strata.v1.FetchService/Fetch",
                "{\"topic\":\"big\",\"partition\":0,\"offset\":0,\"maxBytes\":2000000000}", Map.of());
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        com.fasterxml.jackson.databind.JsonNode answer = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(page.body());
        int records = answer.get("records").size();
        assertThat(records).as("records in one page").isBetween(1, 10);
        assertThat(answer.get("nextOffset").asLong()).isEqualTo(records);
        assertThat(answer.get("endOffset").asLong()).isEqualTo(40);
    }

    /**
     * A node without the fetch role (an ingest node behind a Service, say) serves its console's record browser too:
     * its reads go to a fetch node over the node-to-node port, after its own checks.
     */
    @Test
    @org.junit.jupiter.api.Order(4)
    void aNodeWithoutTheFetchRoleServesTheRecordBrowserThroughAFetchNode() throws Exception {
        StrataProcess ingestOnly = cluster.start("ingest-2", "ingest");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        String api = "http://" + ingestOnly.httpAddress() + "/console/api/";
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        HttpResponse<String> page = post(http, api + "strata.v1.FetchService/Fetch",
                "{\"topic\":\"big\",\"partition\":0,\"offset\":3}", Map.of());
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        com.fasterxml.jackson.databind.JsonNode answer = json.readTree(page.body());
        assertThat(answer.get("records").get(0).get("offset").asLong()).isEqualTo(3);
        assertThat(answer.get("endOffset").asLong()).isEqualTo(40);
        HttpResponse<String> byTime = post(http, api + "strata.v1.AdminService/ListOffsets",
                "{\"topic\":\"big\",\"partition\":0,\"timestampMs\":\"0\"}", Map.of());
        assertThat(byTime.statusCode()).as(byTime.body()).isEqualTo(200);
        assertThat(json.readTree(byTime.body()).path("offset").asLong(-1)).isZero();
        HttpResponse<String> unknown = post(http, api + "strata.v1.FetchService/Fetch",
                "{\"topic\":\"nope\",\"partition\":0,\"offset\":0}", Map.of());
        assertThat(unknown.statusCode()).as("the fetch node's answer, as it gave it").isEqualTo(404);
        assertThat(unknown.body()).contains("unknown topic");
    }

    /**
     * Kafka UI, AKHQ and kafka-log-dirs size topics with DescribeLogDirs: asked of every broker, they see each
     * partition once, with the bytes the console shows (compaction's measure).
     */
    @Test
    @org.junit.jupiter.api.Order(5)
    void kafkaToolsSizeTopicsWithTheBytesTheConsoleShows() throws Exception {
        try (var kafka = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", node.kafkaAddress()))) {
            // Both read compaction's last measure, and brokers learn of each other within seconds: a round whose
            // figures a pass changed in between, or whose brokers did not yet agree, is read again.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Map<Integer, Long> sized = new HashMap<>();
            Map<Integer, Long> expected = new HashMap<>();
            List<String> repeated = new ArrayList<>();
            while (true) {
                expected = new HashMap<>();
                for (var p : client.admin().describeTopic("orders").partitionDetails()) {
                    expected.put(p.partition(), p.storedBytes());
                }
                List<Integer> brokers = kafka.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream()
                        .map(org.apache.kafka.common.Node::id).toList();
                sized = new HashMap<>();
                repeated = new ArrayList<>();
                for (var dirs : kafka.describeLogDirs(brokers).allDescriptions().get(30, TimeUnit.SECONDS).values()) {
                    var dir = dirs.get("strata-object-store");
                    assertThat(dir).as("every broker answers the object store as its one log directory").isNotNull();
                    for (var e : dir.replicaInfos().entrySet()) {
                        if (e.getKey().topic().equals("orders") && sized.put(e.getKey().partition(), e.getValue().size()) != null) {
                            repeated.add("partition " + e.getKey().partition());
                        }
                    }
                }
                boolean measured = expected.size() == 3 && expected.values().stream().allMatch(b -> b > 0);
                if ((measured && repeated.isEmpty() && sized.equals(expected)) || System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(500);
            }
            assertThat(expected).hasSize(3).allSatisfy((p, bytes) -> assertThat(bytes).isPositive());
            assertThat(repeated).as("partitions answered by more than one broker").isEmpty();
            assertThat(sized).isEqualTo(expected);
        }
    }

    /**
     * After the first test made topics, records and a group: every metric the Grafana dashboard and the alert rules
     * in k8s/components/monitoring name is on the node's /q/metrics (but Prometheus's own `up`).
     */
    @Test
    @org.junit.jupiter.api.Order(2)
    void everyMetricTheDashboardAndTheAlertsNameIsOnTheNode() throws Exception {
        Path monitoring = Path.of("../k8s/components/monitoring");
        String named = Files.readString(monitoring.resolve("strata-dashboard.json"))
                + Files.readString(monitoring.resolve("prometheus-rules.yaml"));
        java.util.Set<String> names = new java.util.TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b(strata_[a-z0-9_]+)").matcher(named);
        while (m.find()) {
            names.add(m.group(1));
        }
        assertThat(names).hasSizeGreaterThan(20);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        java.util.Set<String> missing = new java.util.TreeSet<>(names);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // group lag: once its exporter ran
        while (!missing.isEmpty() && System.nanoTime() < deadline) {
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://" + node.httpAddress() + "/q/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            java.util.Set<String> exported = new java.util.HashSet<>();
            metrics.lines().filter(l -> !l.startsWith("#")).forEach(l -> exported.add(l.split("[{ ]", 2)[0]));
            missing.removeIf(exported::contains);
            if (!missing.isEmpty()) {
                Thread.sleep(1_000);
            }
        }
        assertThat(missing).as("metrics the dashboard or the alerts name that the node does not export").isEmpty();
    }

    private static HttpResponse<String> post(HttpClient http, String url, String json, Map<String, String> headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void send(Producer producer, int from, int count, Map<String, RecordMetadata> sent) throws Exception {
        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            byte[] value = ("{\"n\":" + i + ",\"name\":\"order " + i + "\"}").getBytes(StandardCharsets.UTF_8);
            acks.add(producer.send("orders", i % 3, ("key-" + i).getBytes(StandardCharsets.UTF_8), value));
        }
        for (int i = 0; i < acks.size(); i++) {
            sent.put("key-" + (from + i), acks.get(i).get(30, TimeUnit.SECONDS));
        }
    }
}
