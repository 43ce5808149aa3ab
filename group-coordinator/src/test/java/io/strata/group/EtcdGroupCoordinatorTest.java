package io.strata.group;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.testkit.etcd.EtcdFixture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The coordinator over a real etcd (a key root of its own per test). */
class EtcdGroupCoordinatorTest extends GroupCoordinatorContract {
    private static final AtomicInteger ROOTS = new AtomicInteger();

    @Override
    protected MetadataStore newStore() {
        String root = "/group-coordinator-" + ProcessHandle.current().pid() + "-" + ROOTS.incrementAndGet();
        return MetadataStores.etcd(List.of(EtcdFixture.shared().endpoint()), root, 8, Duration.ofSeconds(10));
    }
}
