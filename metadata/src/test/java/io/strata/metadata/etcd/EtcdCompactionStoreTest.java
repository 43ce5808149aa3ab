package io.strata.metadata.etcd;

import io.strata.metadata.CompactionStoreContract;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.testkit.etcd.EtcdFixture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The compaction contract against a real etcd over the network (a key root of its own per test). */
class EtcdCompactionStoreTest extends CompactionStoreContract {
    private static final AtomicInteger ROOTS = new AtomicInteger();

    @Override
    protected MetadataStore newStore(int shards) {
        String root = "/compaction-contract-" + ProcessHandle.current().pid() + "-" + ROOTS.incrementAndGet();
        return MetadataStores.etcd(List.of(EtcdFixture.shared().endpoint()), root, shards, Duration.ofSeconds(10));
    }
}
