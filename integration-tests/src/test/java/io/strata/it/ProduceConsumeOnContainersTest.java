package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.StrataClient;
import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import io.strata.testkit.containers.Containers;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
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
        Map<String, String> settings = StrataCluster.storeSettings(server.endpoint(), server.region(), bucket,
                server.accessKey(), server.secretKey());
        settings.put("strata.metadata.etcd-endpoints", Containers.etcd());
        settings.put("strata.data-dir", work.resolve("data").toString());
        Map<String, String> ingestSettings = new HashMap<>(settings);
        ingestSettings.put("strata.roles", "ingest");
        Map<String, String> fetchSettings = new HashMap<>(settings);
        fetchSettings.put("strata.roles", "fetch");
        try (StrataProcess ingest = new StrataProcess("ingest", ingestSettings, work.resolve("ingest")).start();
             StrataProcess fetch = new StrataProcess("fetch", fetchSettings, work.resolve("fetch")).start();
             StrataClient client = StrataClient.builder().server(ingest.address()).build()) {
            client.admin().createTopic("events", 3);
            Set<String> produced = ClientRecords.produce(client, "events", server.name(), 1_000);
            Set<String> consumed;
            try (StrataClient reader = StrataClient.builder().server(fetch.address()).build()) {
                consumed = ClientRecords.consumeAll(reader, "events", produced.size());
            }
            assertThat(consumed).isEqualTo(produced);
        }
    }
}
