package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.embedded.EmbeddedKvStore;
import io.strata.metadata.etcd.EtcdKvStore;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvStore;
import io.strata.testkit.etcd.EtcdFixture;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A node whose registration lease is lost (it paused past the TTL, or was cut off from the store) registers
 * again, on both adapters: the embedded store and a real etcd.
 */
class NodeRegistrationTest {
    @TempDir
    Path dir;

    static Stream<Function<Path, KvStore>> stores() {
        Function<Path, KvStore> embedded = d -> EmbeddedKvStore.open(d.resolve("kv"));
        Function<Path, KvStore> etcd = d -> EtcdKvStore.connect(List.of(EtcdFixture.shared().endpoint()),
                Duration.ofSeconds(10));
        return Stream.of(embedded, etcd);
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aNodeWhoseLeaseIsLostRegistersAgainUnderANewLease(Function<Path, KvStore> open) throws Exception {
        KvStore kv = open.apply(dir);
        String root = "/registration-" + System.nanoTime();
        try (MetadataStore store = KvMetadataStore.open(kv, root, 4, Clock.systemUTC(), Duration.ofSeconds(10))) {
            NodeInfo node = new NodeInfo("node-a", "127.0.0.1:9400", "127.0.0.1:9402", Set.of("fetch"), 1);
            AutoCloseable registration = store.registerNode(node, Duration.ofSeconds(3)).join();
            long first = lease(kv, root);

            kv.revokeLease(first).join(); // its key goes, as when renewals stop for the TTL

            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!(store.listNodes().join().contains(node) && lease(kv, root) != first)
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(store.listNodes().join()).as("registered again").contains(node);
            assertThat(lease(kv, root)).as("under a new lease").isNotEqualTo(first);

            registration.close();
            assertThat(store.listNodes().join()).doesNotContain(node);
        }
    }

    /** The lease of the node's key; 0 while there is none. */
    private static long lease(KvStore kv, String root) {
        List<KeyValue> entries = kv.range(new KeyLayout(root).nodesPrefix()).join().entries();
        assertThat(entries).hasSizeLessThanOrEqualTo(1);
        return entries.isEmpty() ? 0 : entries.get(0).lease();
    }
}
