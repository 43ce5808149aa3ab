package io.strata.metadata.etcd;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStoreContract;
import io.strata.metadata.MetadataStores;
import io.strata.testkit.etcd.EtcdFixture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The metadata contract against a real etcd over the network (a key root of its own per test). */
class EtcdMetadataStoreTest extends MetadataStoreContract {
    private static final AtomicInteger ROOTS = new AtomicInteger();
    private String root;

    @Override
    protected MetadataStore newStore(int shards) {
        root = "/contract-" + ProcessHandle.current().pid() + "-" + ROOTS.incrementAndGet();
        return reopen(shards);
    }

    @Override
    protected MetadataStore reopen(int shards) {
        return MetadataStores.etcd(List.of(EtcdFixture.shared().endpoint()), root, shards, Duration.ofSeconds(10));
    }
}
