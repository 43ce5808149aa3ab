package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import io.strata.testkit.containers.Containers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Produce → consume across an ingest and a fetch node on the S3 servers users test against, MinIO and
 * LocalStack, with etcd in a container too ({@code -Pcontainers}; needs Docker).
 */
@Tag("containers")
class ProduceConsumeOnContainersTest {
    @TempDir
    Path work;

    static Stream<Containers.S3Server> servers() {
        return Stream.of(Containers.minio(), Containers.localstack());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void everyAcknowledgedRecordIsConsumedOnce(Containers.S3Server server) throws Exception {
        String bucket = "strata-e2e-" + System.nanoTime();
        try (S3ObjectStore store = new S3ObjectStore(S3Settings.forEndpoint(server.endpoint(), server.region(), bucket,
                server.accessKey(), server.secretKey()))) {
            store.ensureBucket().join();
        }
        Map<String, String> settings = new HashMap<>();
        settings.put("strata.metadata.type", "etcd");
        settings.put("strata.metadata.etcd-endpoints", Containers.etcd());
        settings.put("strata.metadata.root", "/e2e-" + System.nanoTime());
        settings.put("strata.object-store.type", "s3");
        settings.put("strata.object-store.s3.endpoint", server.endpoint().toString());
        settings.put("strata.object-store.s3.bucket", bucket);
        settings.put("strata.object-store.s3.region", server.region());
        settings.put("strata.object-store.s3.access-key", server.accessKey());
        settings.put("strata.object-store.s3.secret-key", server.secretKey());
        settings.put("strata.data-dir", work.resolve("data").toString());
        Map<String, String> ingestSettings = new HashMap<>(settings);
        ingestSettings.put("strata.roles", "ingest");
        Map<String, String> fetchSettings = new HashMap<>(settings);
        fetchSettings.put("strata.roles", "fetch");
        try (StrataProcess ingest = new StrataProcess("ingest", ingestSettings, work.resolve("ingest")).start();
             StrataProcess fetch = new StrataProcess("fetch", fetchSettings, work.resolve("fetch")).start();
             StrataClient client = StrataClient.builder().server(ingest.address()).build()) {
            client.admin().createTopic("events", 3);
            Set<String> produced = new HashSet<>();
            List<CompletableFuture<?>> acks = new ArrayList<>();
            try (Producer producer = client.producer()) {
                for (int i = 0; i < 1_000; i++) {
                    String value = server.name() + "-" + i;
                    produced.add(value);
                    acks.add(producer.send("events", null, null, value.getBytes(StandardCharsets.UTF_8)));
                }
                producer.flush();
                CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            }
            Set<String> consumed = new HashSet<>();
            int read = 0;
            try (StrataClient reader = StrataClient.builder().server(fetch.address()).build();
                 Consumer consumer = reader.consumer("events")) {
                consumer.assignAll();
                consumer.seekToBeginning();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (read < produced.size() && System.nanoTime() < deadline) {
                    for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(2))) {
                        consumed.add(new String(r.value(), StandardCharsets.UTF_8));
                        read++;
                    }
                }
            }
            assertThat(read).isEqualTo(produced.size());
            assertThat(consumed).isEqualTo(produced);
        }
    }
}
