package io.strata.kafka.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.NodeInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which node Kafka clients are told to use: leaders on ingest nodes, reads on fetch nodes, each in the client's zone. */
class BrokersTest {
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private ScheduledExecutorService timer;
    private Brokers brokers;

    @BeforeEach
    void open() throws Exception {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 8);
        timer = Executors.newSingleThreadScheduledExecutor();
        int port = 10_000;
        for (String zone : List.of("a", "b")) {
            for (String role : List.of("ingest", "ingest", "fetch")) {
                String id = role + "-" + zone + "-" + port;
                metadata.registerNode(new NodeInfo(id, "10.0.0.1:" + port, "10.0.0.1:" + (port + 1), Set.of(role),
                        port, "10.0.0.1:" + (port + 2), zone), Duration.ofSeconds(30)).get();
                port += 10;
            }
        }
        // This node: a fetch node of zone a, with no Kafka registration read back yet.
        brokers = new Brokers(metadata, new Broker(BrokerIds.of("self"), "self", "10.0.0.9", 9092, "10.0.0.9:9400",
                Set.of("fetch"), "a"), timer, 60_000);
        brokers.refresh().get();
    }

    @AfterEach
    void close() throws Exception {
        brokers.close();
        timer.shutdownNow();
        metadata.close();
    }

    @Test
    void aClientOfAZoneIsSentToThatZonesNodesAndOthersToAny() {
        Set<String> leadersForA = new HashSet<>();
        Set<String> leadersForAnyone = new HashSet<>();
        for (int p = 0; p < 64; p++) {
            Broker a = brokers.leader(7, p, 8, "a");
            assertThat(a.ingests()).isTrue();
            assertThat(a.rack()).isEqualTo("a");
            leadersForA.add(a.nodeId());
            leadersForAnyone.add(brokers.leader(7, p, 8, null).nodeId());
            assertThat(brokers.reader(7, p, "b").rack()).isEqualTo("b");
            assertThat(brokers.leader(7, p, 8, "elsewhere")).as("a zone without nodes: any").isNotNull();
        }
        assertThat(leadersForA).hasSize(2);
        assertThat(leadersForAnyone).hasSize(4);
        assertThat(brokers.all()).hasSize(7).first().isEqualTo(brokers.self());
    }

    @Test
    void everyNodeNamesTheSameCoordinatorForAGroup() {
        Broker first = brokers.coordinator("orders");
        for (int i = 0; i < 10; i++) {
            assertThat(brokers.coordinator("orders")).isEqualTo(first);
        }
        Set<String> spread = new HashSet<>();
        for (int g = 0; g < 100; g++) {
            spread.add(brokers.coordinator("group-" + g).nodeId());
        }
        assertThat(spread).as("groups spread over the brokers").hasSizeGreaterThan(3);
    }

    @Test
    void theZoneOfAClientComesFromItsClientId() {
        assertThat(Brokers.rackOfClientId("billing,strata_az=eu-west-1a")).isEqualTo("eu-west-1a");
        assertThat(Brokers.rackOfClientId("app;ws_az=use1-az1")).isEqualTo("use1-az1");
        assertThat(Brokers.rackOfClientId("console-producer")).isNull();
        assertThat(Brokers.rackOfClientId(null)).isNull();
    }
}
