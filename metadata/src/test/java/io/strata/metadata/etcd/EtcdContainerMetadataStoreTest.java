package io.strata.metadata.etcd;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStoreContract;
import io.strata.metadata.MetadataStores;
import io.strata.testkit.containers.Containers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;

/** The metadata contract against etcd's own image in a container ({@code -Pcontainers}; needs Docker). */
@Tag("containers")
class EtcdContainerMetadataStoreTest extends MetadataStoreContract {
    private static final AtomicInteger ROOTS = new AtomicInteger();
    private String root;

    @Override
    protected MetadataStore newStore(int shards) {
        root = "/container-contract-" + ROOTS.incrementAndGet();
        return reopen(shards);
    }

    @Override
    protected MetadataStore reopen(int shards) {
        return MetadataStores.etcd(List.of(Containers.etcd()), root, shards, Duration.ofSeconds(10));
    }
}
