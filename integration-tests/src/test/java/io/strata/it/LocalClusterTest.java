package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.launcher.Installation;
import io.strata.launcher.LauncherException;
import io.strata.launcher.LocalCluster;
import io.strata.launcher.MemberStatus;
import io.strata.launcher.MemberStatus.Health;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
            produce(client, "before", produced);
        }

        cluster.kill("ingest-1");
        assertThat(cluster.status()).filteredOn(s -> s.member().name().equals("ingest-1"))
                .extracting(MemberStatus::health).containsExactly(Health.DOWN);
        assertThat(ProcessHandle.of(pids.get(2))).isEmpty();
        assertThat(cluster.clientAddresses()).hasSize(3).doesNotContain(addresses.get(0));

        try (StrataClient client = StrataClient.builder().server(cluster.clientAddresses().get(0)).build()) {
            produce(client, "after", produced);
            assertThat(consumeAll(client, 2_000)).isEqualTo(produced);
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
            assertThat(consumeAll(client, 2_000)).isEqualTo(produced);
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

    private static void produce(StrataClient client, String prefix, Set<String> produced) throws Exception {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        try (Producer producer = client.producer()) {
            for (int i = 0; i < 1_000; i++) {
                String value = prefix + "-" + i;
                acks.add(producer.send(TOPIC, null, null, value.getBytes(StandardCharsets.UTF_8)));
                produced.add(value);
            }
            producer.flush();
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
    }

    private static Set<String> consumeAll(StrataClient client, int expected) {
        Set<String> seen = new HashSet<>();
        try (Consumer consumer = client.consumer(TOPIC)) {
            consumer.assignAll();
            consumer.seekToBeginning();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int read = 0;
            while (read < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(2))) {
                    seen.add(new String(r.value(), StandardCharsets.UTF_8));
                    read++;
                }
            }
            assertThat(read).as("records read, each once").isEqualTo(expected);
        }
        return seen;
    }
}
