package io.strata.metadata;

import io.strata.metadata.embedded.EmbeddedKvStore;
import io.strata.metadata.etcd.EtcdKvStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/** Opens the product's metadata stores: embedded (single process, files) or etcd (over the network). */
public final class MetadataStores {
    private MetadataStores() {
    }

    /** The embedded store in {@code dir}: durable across restarts, usable by one process at a time. */
    public static MetadataStore embedded(Path dir, int shards) {
        return KvMetadataStore.open(EmbeddedKvStore.open(dir), "", shards, Clock.systemUTC(), Duration.ofSeconds(10));
    }

    /** etcd at {@code endpoints}, with every key under {@code root}. */
    public static MetadataStore etcd(List<String> endpoints, String root, int shards, Duration timeout) {
        return etcd(endpoints, root, shards, timeout, io.strata.metadata.etcd.EtcdSecurity.NONE);
    }

    /** etcd over TLS and with credentials as {@code security} says. */
    public static MetadataStore etcd(List<String> endpoints, String root, int shards, Duration timeout,
                                     io.strata.metadata.etcd.EtcdSecurity security) {
        return KvMetadataStore.open(EtcdKvStore.connect(endpoints, timeout, security), root, shards, Clock.systemUTC(),
                timeout);
    }
}
