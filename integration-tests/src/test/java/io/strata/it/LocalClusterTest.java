package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.client.StrataClient;
import io.strata.launcher.Installation;
import io.strata.launcher.LauncherException;
import io.strata.launcher.LocalCluster;
import io.strata.launcher.MemberStatus;
import io.strata.launcher.MemberStatus.Health;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code strata cluster up} starts, started the same way (the launcher's {@link LocalCluster}): etcd,
 * S3Proxy, two ingest nodes, two fetch nodes and the compaction node as detached processes. Records produced
 * before and after an ingest node is SIGKILLed all read back; the node comes back with its ports; {@code down}
 * leaves no process behind, and {@code up} again finds the data.
 */
class LocalClusterTest {
    private static final String TOPIC = "launched";

    @TempDir
    Path dir;
    private LocalCluster cluster;
    private final List<String> progress = new ArrayList<>();

    @AfterEach
    void down() {
        if (cluster != null && cluster.exists()) {
            cluster.down(5);
        }
    }

    @Test
    void aLaunchedClusterKeepsEveryRecordThroughAKilledIngestNodeAndStopsWithoutATrace() throws Exception {
        cluster = new LocalCluster(dir, new Installation(Path.of("..")), progress::add);

        List<MemberStatus> up = cluster.up(2, 2);

        assertThat(up).extracting(s -> s.member().name())
                .containsExactly("etcd", "s3", "ingest-1", "ingest-2", "fetch-1", "fetch-2", "compaction");
        assertThat(up).extracting(MemberStatus::health).containsOnly(Health.UP);
        assertThat(progress).anyMatch(line -> line.startsWith("ingest-2") && line.contains("ready"));
        List<Long> pids = up.stream().map(MemberStatus::pid).toList();
        List<String> addresses = cluster.clientAddresses();
        assertThat(addresses).hasSize(4);

        Set<String> produced = new HashSet<>();
        try (StrataClient client = StrataClient.builder().server(addresses.get(0)).build()) {
            client.admin().createTopic(TOPIC, 4);
            produced.addAll(ClientRecords.produce(client, TOPIC, "before", 1_000));
        }

        cluster.kill("ingest-1");
        assertThat(cluster.status()).filteredOn(s -> s.member().name().equals("ingest-1"))
                .extracting(MemberStatus::health).containsExactly(Health.DOWN);
        assertThat(ProcessHandle.of(pids.get(2))).isEmpty();
        assertThat(cluster.clientAddresses()).hasSize(3).doesNotContain(addresses.get(0));

        try (StrataClient client = StrataClient.builder().server(cluster.clientAddresses().get(0)).build()) {
            produced.addAll(ClientRecords.produce(client, TOPIC, "after", 1_000));
            assertThat(ClientRecords.consumeAll(client, TOPIC, 2_000)).isEqualTo(produced);
        }

        MemberStatus back = cluster.start("ingest-1");
        assertThat(back.health()).isEqualTo(Health.UP);
        assertThat(back.member().address()).isEqualTo(addresses.get(0)); // same port, so clients find it again
        assertThatThrownBy(() -> cluster.start("ingest-1")).isInstanceOf(LauncherException.class)
                .hasMessageContaining("already running");

        List<Long> running = cluster.status().stream().map(MemberStatus::pid).toList();
        assertThat(cluster.down(30)).isEqualTo(7);
        assertThat(running).allSatisfy(pid -> assertThat(ProcessHandle.of(pid)).as("pid %d", pid).isEmpty());
        assertThat(cluster.status()).extracting(MemberStatus::health).containsOnly(Health.DOWN);
        assertThat(cluster.clientAddresses()).isEmpty();

        // The stopped cluster starts again as it was: same nodes, same data.
        cluster.up(2, 2);
        try (StrataClient client = StrataClient.builder().server(cluster.clientAddresses().get(1)).build()) {
            assertThat(ClientRecords.consumeAll(client, TOPIC, 2_000)).isEqualTo(produced);
        }
        cluster.down(30);
        cluster.delete();
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void aSecondUpInTheSameFolderIsRefusedWhileTheFirstRuns() {
        cluster = new LocalCluster(dir, new Installation(Path.of("..")), progress::add);
        cluster.up(1, 1);

        assertThatThrownBy(() -> cluster.up(1, 1)).isInstanceOf(LauncherException.class)
                .hasMessageContaining("already up");
        assertThatThrownBy(() -> cluster.kill("ingest-9")).isInstanceOf(LauncherException.class)
                .hasMessageContaining("no process named 'ingest-9'").hasMessageContaining("fetch-1");
        assertThatThrownBy(() -> cluster.delete()).isInstanceOf(LauncherException.class)
                .hasMessageContaining("while");
    }
}
