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
        // On the cluster's default heap the compaction node builds the default segments whole (at 512 MiB a
        // segment may take only 64 MiB of its heap).
        assertThat(Files.readString(dir.resolve("compaction").resolve("compaction.log")))
                .contains("segments up to 134217728 bytes");
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

    /** `strata cluster up --secure`: TLS with the cluster's own CA, auth required, the super-user made at start. */
    @Test
    void aSecureClusterServesOnlyWhoSignsInAndASecondUpInItsFolderIsRefused() throws Exception {
        cluster = new LocalCluster(dir, new Installation(Path.of("..")), progress::add);
        cluster.up(new LocalCluster.Options(1, 1, true, java.util.Map.of(), null, true));
        var security = cluster.security().orElseThrow();
        String address = cluster.clientAddresses().get(0);
        try (StrataClient admin = StrataClient.builder().server(address).tlsCa(security.caPem())
                .credentials(security.user(), security.password()).build()) {
            assertThat(admin.security().whoAmI().getSuperUser()).isTrue();
            admin.admin().createTopic("logs-web", 1);
            admin.admin().createTopic("metrics", 1);
            admin.security().addUser("alice", "alice-password", List.of(), false);
            admin.security().addAcl(io.strata.api.v1.AclEntry.newBuilder().setPrincipal("User:alice")
                    .setOperation(io.strata.api.v1.AclOperation.ACL_OPERATION_PRODUCE)
                    .setResourceType(io.strata.api.v1.AclResourceType.ACL_RESOURCE_TOPIC)
                    .setResourceName("logs-").setPrefixed(true).build());
        }
        try (StrataClient alice = StrataClient.builder().server(address).tlsCa(security.caPem())
                .credentials("alice", "alice-password").build()) {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (alice.admin().listTopics().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50); // the rule reaches the node within a second
            }
            assertThat(alice.admin().listTopics()).extracting(t -> t.name()).containsExactly("logs-web");
            alice.producer().send("logs-web", 0, null, new byte[] {1}).get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThatThrownBy(() -> alice.producer().send("metrics", 0, null, new byte[] {1})
                    .get(30, java.util.concurrent.TimeUnit.SECONDS)).hasMessageContaining("PERMISSION_DENIED");
        }
        try (StrataClient nobody = StrataClient.builder().server(address).tlsCa(security.caPem()).build()) {
            assertThatThrownBy(() -> nobody.admin().listTopics()).hasMessageContaining("no credentials");
        }
        try (StrataClient plaintext = StrataClient.builder().server(address).plaintext(true).build()) {
            assertThatThrownBy(() -> plaintext.admin().listTopics()).isInstanceOf(io.strata.client.StrataException.class);
        }

        assertThatThrownBy(() -> cluster.up(new LocalCluster.Options(1, 1, true, java.util.Map.of(), null, true)))
                .isInstanceOf(LauncherException.class).hasMessageContaining("already up");
        assertThatThrownBy(() -> cluster.kill("ingest-9")).isInstanceOf(LauncherException.class)
                .hasMessageContaining("no process named 'ingest-9'").hasMessageContaining("fetch-1");
        assertThatThrownBy(() -> cluster.delete()).isInstanceOf(LauncherException.class)
                .hasMessageContaining("while");
    }
}
